"""Acceptance review of sampled blocks (pages and API) — reviewers only."""

from __future__ import annotations

from fastapi.responses import RedirectResponse

from celm.server import review
from celm.server.errors import WorkflowError
from celm.server.guideline import RANKS
from celm.server.routes.common import RoleRouter, int_field, is_id, item_json, page, settings_of

roles = RoleRouter()


@roles.route("GET", "/review", ("reviewer",))
def review_list(request, auth):
    return page(request, auth, "review_list.html", blocks=review.review_blocks(auth.db),
                bar=settings_of(request).acceptance_bar)


@roles.route("GET", "/review/{block_id}", ("reviewer",))
def review_page(request, auth, block_id):
    block = review.get_block(auth.db, int_field(block_id, "block_id"))
    return page(request, auth, "review.html", block=block, items=review.block_items(auth.db, block),
                bar=settings_of(request).acceptance_bar, ranks=RANKS)


@roles.route("POST", "/review/{block_id}", ("reviewer",))
def review_submit(request, auth, block_id):
    block = review.get_block(auth.db, int_field(block_id, "block_id"))
    verdicts = {i: auth.form.get(f"v{i}") == "1" for i in block.sample if auth.form.get(f"v{i}") in ("0", "1")}
    review.review_block(auth.db, auth.user, block.id, verdicts, settings_of(request), address=auth.address)
    return RedirectResponse("/review", status_code=303)


@roles.route("GET", "/api/review", ("reviewer",), api=True)
def api_review_queue(request, auth):
    """The blocks awaiting review, each with its sampled items and their decided rank or label."""
    return {"blocks": [{"id": b.id, "batch_id": b.batch_id, "size": b.size,
                        "sample": [{**item_json(i), "final_score": i.final_score, "final_label": i.final_label}
                                   for i in items]}
                       for b, items in review.review_queue(auth.db, auth.user)]}


@roles.route("POST", "/api/review/{block_id}", ("reviewer",), api=True)
def api_review(request, auth, block_id):
    """``{"verdicts": {"<item id>": true | false}}``, one for every sampled item (true: rated correctly)."""
    raw = auth.body.get("verdicts") if isinstance(auth.body, dict) else None
    if not isinstance(raw, dict) or not all(is_id(k) and isinstance(v, bool) for k, v in raw.items()):
        raise WorkflowError("verdicts must map sampled item ids to true (correct) or false", 422)
    verdicts = {int(k): v for k, v in raw.items()}
    block = review.review_block(auth.db, auth.user, int_field(block_id, "block_id"), verdicts, settings_of(request),
                                address=auth.address)
    return {"id": block.id, "status": block.status, "accuracy": block.accuracy}
