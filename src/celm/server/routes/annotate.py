"""The competence test and rating (pages and API) — annotators only."""

from __future__ import annotations

from fastapi.responses import RedirectResponse

from celm.server import competence, workflow
from celm.server.errors import WorkflowError
from celm.server.guideline import LABELS, OVERALL, RANKS
from celm.server.routes.common import RoleRouter, body_item_id, int_field, is_digits, item_json, page, settings_of

roles = RoleRouter()


# -- competence test -------------------------------------------------------------------------------
def _test_state(request, auth, task: str) -> dict:
    settings = settings_of(request)
    return {"passed": {t: competence.is_qualified(auth.user, t) for t in competence.TASKS},
            "attempts_left": competence.attempts_left(auth.db, auth.user, task, settings),
            "next_attempt_at": competence.next_attempt_at(auth.db, auth.user, task, settings)}


@roles.route("GET", "/test", ("annotator",))
def test_page(request, auth):
    task = competence.check_task(request.query_params.get("task", "rating"))
    state = _test_state(request, auth, task)
    # the draw is made once per attempt and shown again until submitted (idempotent: reloading draws nothing new)
    questions = [] if state["next_attempt_at"] else competence.drawn_questions(
        auth.db, competence.draw(auth.db, auth.user, task, settings_of(request)))
    return page(request, auth, "test.html", task=task, questions=questions, ranks=RANKS, labels=LABELS, overall=OVERALL,
                pass_percent=round(settings_of(request).pass_mark * 100), test_size=settings_of(request).test_size, **state)


def _graded(request, auth, task: str, answers: dict):
    attempt, notes = competence.grade_test(auth.db, auth.user, answers, settings_of(request), address=auth.address, task=task)
    return attempt, notes, _test_state(request, auth, task)


@roles.route("POST", "/test", ("annotator",))
def test_submit(request, auth):
    task = competence.check_task(str(auth.form.get("task", "rating")))
    answers = {}
    for key, value in auth.form.items():
        if key.startswith("q") and is_digits(key[1:]):
            if task == "rating" and is_digits(value):
                answers[int(key[1:])] = int(value)
            elif task == "label" and value:
                answers[int(key[1:])] = str(value)
    attempt, notes, state = _graded(request, auth, task, answers)
    return page(request, auth, "message.html", message=f"{attempt.correct}/{attempt.total}",
                message_key="passed" if attempt.passed else "failed", feedback=notes, **state)


# -- rating ----------------------------------------------------------------------------------------
# A page view never claims an item: GET /annotate shows the item held, or a button that claims one
# (POST /annotate/next); a rating's POST claims the next item before it redirects here.
@roles.route("GET", "/annotate", ("annotator",))
def annotate_page(request, auth):
    item = workflow.held_item(auth.db, auth.user)
    waiting = item is not None or workflow.work_waiting(auth.db, auth.user)
    progress = workflow.progress(auth.db, auth.user, item.batch_id) if item else None
    return page(request, auth, "annotate.html", item=item, task=item.batch.task if item else None, waiting=waiting,
                progress=progress, ranks=RANKS, labels=LABELS, overall=OVERALL)


@roles.route("POST", "/annotate/next", ("annotator",))
def annotate_claim(request, auth):
    workflow.next_item(auth.db, auth.user, settings_of(request))
    return RedirectResponse("/annotate", status_code=303)


@roles.route("POST", "/annotate/{item_id}", ("annotator",))
def annotate_submit(request, auth, item_id):
    f = auth.form
    score = int(f["score"]) if is_digits(f.get("score", "")) else None
    workflow.submit_rating(auth.db, auth.user, int_field(item_id, "item_id"), score=score,
                           label=f.get("label"), safety_flag=bool(f.get("safety_flag")), comment=str(f.get("comment", "")),
                           settings=settings_of(request), address=auth.address)
    workflow.next_item(auth.db, auth.user, settings_of(request))
    return RedirectResponse("/annotate", status_code=303)


@roles.route("POST", "/annotate/{item_id}/skip", ("annotator",))
def annotate_skip(request, auth, item_id):
    item_id = int_field(item_id, "item_id")
    workflow.skip_item(auth.db, auth.user, item_id, address=auth.address)
    workflow.next_item(auth.db, auth.user, settings_of(request), exclude=item_id)
    return RedirectResponse("/annotate", status_code=303)


@roles.route("GET", "/api/next", ("annotator",), api=True)
def api_held(request, auth):
    """The item the annotator holds, if any; reads only (POST /api/next claims one)."""
    item = workflow.held_item(auth.db, auth.user)
    return {"item": item_json(item) if item else None}


@roles.route("POST", "/api/next", ("annotator",), api=True)
def api_next(request, auth):
    item = workflow.next_item(auth.db, auth.user, settings_of(request))
    if item is None:
        return {"item": None}
    return {"item": item_json(item)}


@roles.route("POST", "/api/ratings", ("annotator",), api=True)
def api_rate(request, auth):
    b, item_id = body_item_id(auth)
    r = workflow.submit_rating(auth.db, auth.user, item_id, score=b.get("score"), label=b.get("label"),
                               safety_flag=bool(b.get("safety_flag")), comment=str(b.get("comment") or ""),
                               settings=settings_of(request), address=auth.address)
    return {"rating_id": r.id, "item_id": r.item_id}


@roles.route("GET", "/api/test", ("annotator",), api=True)
def api_test(request, auth):
    task = competence.check_task(request.query_params.get("task", "rating"))
    attempt = competence.draw(auth.db, auth.user, task, settings_of(request))
    return {"task": task, "attempt_id": attempt.id, "questions": [
        {"id": q.id, "instruction": q.instruction, "response": q.response} for q in competence.drawn_questions(auth.db, attempt)]}


@roles.route("POST", "/api/test", ("annotator",), api=True)
def api_test_submit(request, auth):
    b = auth.body if isinstance(auth.body, dict) else {}
    task = competence.check_task(str(b.get("task") or "rating"))
    what = "ranks 0-6" if task == "rating" else "verdicts"
    raw = b.get("answers")
    if not isinstance(raw, dict):
        raise WorkflowError(f"answers must map question ids to {what}", 422)
    try:
        answers = {int(k): int(v) if task == "rating" else str(v) for k, v in raw.items()}
    except (TypeError, ValueError):
        raise WorkflowError(f"answers must map question ids to {what}", 422) from None
    attempt, notes, state = _graded(request, auth, task, answers)
    wait = state["next_attempt_at"]
    return {"correct": attempt.correct, "total": attempt.total, "passed": attempt.passed, "feedback": notes,
            "attempts_left": state["attempts_left"], "next_attempt_at": wait.isoformat() + "Z" if wait else None}
