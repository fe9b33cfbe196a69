"""The competence test and rating (pages and API) — annotators only."""

from __future__ import annotations

from fastapi.responses import RedirectResponse

from celm.server import competence, workflow
from celm.server.errors import WorkflowError
from celm.server.guideline import LABELS, OVERALL, RANKS
from celm.server.routes.common import RoleRouter, body_item_id, int_field, is_digits, item_json, page, settings_of

roles = RoleRouter()


# -- competence test -------------------------------------------------------------------------------
@roles.route("GET", "/test", ("annotator",))
def test_page(request, auth):
    task = competence.check_task(request.query_params.get("task", "rating"))
    return page(request, auth, "test.html", task=task, questions=competence.test_questions(auth.db, task), ranks=RANKS,
                labels=LABELS, overall=OVERALL, passed={t: competence.is_qualified(auth.user, t) for t in competence.TASKS})


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
    attempt, missed = competence.grade_test(auth.db, auth.user, answers, settings_of(request), address=auth.address, task=task)
    return page(request, auth, "message.html", message=f"{attempt.correct}/{attempt.total}",
                message_key="passed" if attempt.passed else "failed", missed=missed)


# -- rating ----------------------------------------------------------------------------------------
@roles.route("GET", "/annotate", ("annotator",))
def annotate_page(request, auth):
    item = workflow.next_item(auth.db, auth.user)
    return page(request, auth, "annotate.html", item=item, task=item.batch.task if item else None,
                ranks=RANKS, labels=LABELS, overall=OVERALL)


@roles.route("POST", "/annotate/{item_id}", ("annotator",))
def annotate_submit(request, auth, item_id):
    f = auth.form
    score = int(f["score"]) if is_digits(f.get("score", "")) else None
    workflow.submit_rating(auth.db, auth.user, int_field(item_id, "item_id"), score=score,
                           label=f.get("label"), safety_flag=bool(f.get("safety_flag")), comment=str(f.get("comment", "")),
                           settings=settings_of(request), address=auth.address)
    return RedirectResponse("/annotate", status_code=303)


@roles.route("GET", "/api/next", ("annotator",), api=True)
def api_next(request, auth):
    item = workflow.next_item(auth.db, auth.user)
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
    return {"task": task, "questions": [{"id": q.id, "instruction": q.instruction, "response": q.response}
                                        for q in competence.test_questions(auth.db, task)]}


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
    attempt, missed = competence.grade_test(auth.db, auth.user, answers, settings_of(request), address=auth.address, task=task)
    return {"correct": attempt.correct, "total": attempt.total, "passed": attempt.passed, "missed": missed}
