"""Red teaming: attempts against the offered models, marks, the leaderboard and the export."""

from __future__ import annotations

from fastapi.responses import RedirectResponse, Response

from celm.server import redteam
from celm.server.routes.common import RoleRouter, int_field, page, settings_of

roles = RoleRouter()


@roles.route("GET", "/redteam", ("redteamer",))
def redteam_page(request, auth):
    from celm.taxonomy import get_taxonomy

    return page(request, auth, "redteam.html", attempts=redteam.recent_attempts(auth.db, auth.user, limit=20),
                scenarios=get_taxonomy().scenarios, models=settings_of(request).redteam_models)


@roles.route("POST", "/redteam", ("redteamer",))
def redteam_submit(request, auth):
    f = auth.form
    redteam.redteam_attempt(auth.db, auth.user, str(f.get("prompt", "")), str(f.get("scenario", "")),
                            str(f.get("model", "")), settings_of(request), address=auth.address)
    return RedirectResponse("/redteam", status_code=303)


@roles.route("POST", "/redteam/{attempt_id}/mark", ("redteamer",))
def redteam_mark(request, auth, attempt_id):
    redteam.mark_attempt(auth.db, auth.user, int_field(attempt_id, "attempt_id"), auth.form.get("unsafe") == "1",
                         str(auth.form.get("notes", "")), address=auth.address)
    return RedirectResponse("/redteam", status_code=303)


@roles.route("GET", "/redteam/leaderboard", ("redteamer", "admin"))
def redteam_board(request, auth):
    return page(request, auth, "leaderboard.html", rows=redteam.leaderboard(auth.db))


@roles.route("GET", "/export/redteam", ("admin", "redteamer"))
def redteam_export(request, auth):
    from celm.server.io import redteam_items_jsonl

    return Response(redteam_items_jsonl(auth.db, by=auth.user, address=auth.address), media_type="application/x-ndjson",
                    headers={"Content-Disposition": 'attachment; filename="redteam_eval_items.jsonl"'})
