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
    return page(request, auth, "test.html", questions=competence.test_questions(auth.db), ranks=RANKS, overall=OVERALL)


@roles.route("POST", "/test", ("annotator",))
def test_submit(request, auth):
    answers = {}
    for key, value in auth.form.items():
        if key.startswith("q") and is_digits(key[1:]) and is_digits(value):
            answers[int(key[1:])] = int(value)
    attempt, missed = competence.grade_test(auth.db, auth.user, answers, settings_of(request), address=auth.address)
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
    return {"questions": [{"id": q.id, "instruction": q.instruction, "response": q.response}
                          for q in competence.test_questions(auth.db)]}


@roles.route("POST", "/api/test", ("annotator",), api=True)
def api_test_submit(request, auth):
    b = auth.body if isinstance(auth.body, dict) else {}
    raw = b.get("answers")
    if not isinstance(raw, dict):
        raise WorkflowError("answers must map question ids to ranks 0-6", 422)
    try:
        answers = {int(k): int(v) for k, v in raw.items()}
    except (TypeError, ValueError):
        raise WorkflowError("answers must map question ids to ranks 0-6", 422) from None
    attempt, missed = competence.grade_test(auth.db, auth.user, answers, settings_of(request), address=auth.address)
    return {"correct": attempt.correct, "total": attempt.total, "passed": attempt.passed, "missed": missed}
