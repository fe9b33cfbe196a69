"""Acceptance review of sampled blocks — reviewers only."""

from __future__ import annotations

from fastapi.responses import RedirectResponse

from celm.server import workflow
from celm.server.guideline import RANKS
from celm.server.routes.common import RoleRouter, page, settings_of

roles = RoleRouter()


@roles.route("GET", "/review", ("reviewer",))
def review_list(request, auth):
    return page(request, auth, "review_list.html", blocks=workflow.review_blocks(auth.db),
                bar=settings_of(request).acceptance_bar)


@roles.route("GET", "/review/{block_id}", ("reviewer",))
def review_page(request, auth, block_id):
    block = workflow.get_block(auth.db, int(block_id))
    return page(request, auth, "review.html", block=block, items=workflow.block_items(auth.db, block),
                bar=settings_of(request).acceptance_bar, ranks=RANKS)


@roles.route("POST", "/review/{block_id}", ("reviewer",))
def review_submit(request, auth, block_id):
    block = workflow.get_block(auth.db, int(block_id))
    verdicts = {i: auth.form.get(f"v{i}") == "1" for i in block.sample if auth.form.get(f"v{i}") in ("0", "1")}
    workflow.review_block(auth.db, auth.user, block.id, verdicts, settings_of(request), address=auth.address)
    return RedirectResponse("/review", status_code=303)
