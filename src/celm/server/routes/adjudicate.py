"""Adjudication of disagreements (page and API) — seniors only."""

from __future__ import annotations

from fastapi.responses import RedirectResponse

from celm.server import users, workflow
from celm.server.guideline import LABELS, OVERALL, RANKS
from celm.server.routes.common import RoleRouter, body_item_id, int_field, is_digits, item_json, page, settings_of

roles = RoleRouter()


@roles.route("GET", "/api/adjudication", ("senior",), api=True)
def api_adjudication(request, auth):
    """The items awaiting a senior, with both annotators' judgements (names kept: a senior sees them)."""
    names = users.usernames(auth.db)
    out = []
    for item in workflow.adjudication_queue(auth.db, auth.user):
        ratings = [{"annotator": names.get(r.user_id), "score": r.score, "label": r.label, "comment": r.comment}
                   for r in workflow.item_ratings(auth.db, item) if r.role == "annotator"]
        out.append({**item_json(item), "ratings": ratings})
    return {"items": out}


@roles.route("POST", "/api/adjudications", ("senior",), api=True)
def api_adjudicate(request, auth):
    b, item_id = body_item_id(auth)
    item = workflow.adjudicate(auth.db, auth.user, item_id, score=b.get("score"), label=b.get("label"),
                               comment=str(b.get("comment") or ""), settings=settings_of(request), address=auth.address)
    return {"item_id": item.id, "status": item.status}


@roles.route("GET", "/adjudicate", ("senior",))
def adjudicate_page(request, auth):
    queue = workflow.adjudication_queue(auth.db, auth.user)
    item = queue[0] if queue else None
    ratings = workflow.item_ratings(auth.db, item) if item else []
    return page(request, auth, "adjudicate.html", item=item, ratings=ratings, names=users.usernames(auth.db),
                waiting=len(queue), task=item.batch.task if item else None, ranks=RANKS, labels=LABELS, overall=OVERALL)


@roles.route("POST", "/adjudicate/{item_id}", ("senior",))
def adjudicate_submit(request, auth, item_id):
    f = auth.form
    score = int(f["score"]) if is_digits(f.get("score", "")) else None
    workflow.adjudicate(auth.db, auth.user, int_field(item_id, "item_id"), score=score,
                        label=f.get("label"), comment=str(f.get("comment", "")), settings=settings_of(request),
                        address=auth.address)
    return RedirectResponse("/adjudicate", status_code=303)
