"""Administration — admins only: users, the competence test's questions, import / export, batches and
the audit trail."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from celm.server import audit, batches, competence, review, users
from celm.server.errors import WorkflowError
from celm.server.models import ROLES
from celm.server.routes.common import RoleRouter, int_field, is_digits, page, settings_of

roles = RoleRouter()
AUDIT_PAGE = 100  # entries per page of /admin/audit


# -- users -----------------------------------------------------------------------------------------
@roles.route("GET", "/admin/users", ("admin",))
def users_page(request, auth):
    return page(request, auth, "users.html", users=users.users(auth.db), roles=ROLES)


@roles.route("POST", "/admin/users", ("admin",))
def users_create(request, auth):
    f = auth.form
    users.create_user(auth.db, str(f.get("username", "")), str(f.get("password", "")), str(f.get("role", "")),
                      by=auth.user, address=auth.address)
    return RedirectResponse("/admin/users", status_code=303)


@roles.route("POST", "/admin/users/{user_id}/role", ("admin",))
def users_set_role(request, auth, user_id):
    users.set_role(auth.db, auth.user, int_field(user_id, "user_id"), str(auth.form.get("role", "")), address=auth.address)
    return RedirectResponse("/admin/users", status_code=303)


# -- competence test questions ---------------------------------------------------------------------
@roles.route("GET", "/admin/test", ("admin",))
def test_admin(request, auth):
    return page(request, auth, "test_admin.html", questions=competence.test_questions(auth.db, "rating"),
                label_questions=competence.test_questions(auth.db, "label"))


@roles.route("POST", "/admin/test", ("admin",))
def test_admin_set(request, auth):
    import yaml

    upload = auth.form.get("file")
    try:
        text = (upload.file.read().decode("utf-8-sig") if hasattr(upload, "file") else str(auth.form.get("questions", "")))
        questions = yaml.safe_load(text) or []
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise WorkflowError(f"not a YAML list of questions (UTF-8): {str(exc)[:300]}", 422) from None
    if not isinstance(questions, list):
        raise WorkflowError("expected a list of {instruction, response, score} (the rating test) or "
                            "{instruction, response, label} (the label test)")
    competence.set_test_questions(auth.db, questions, by=auth.user, address=auth.address)
    return RedirectResponse("/admin/test", status_code=303)


# -- import / export and batches -------------------------------------------------------------------
@roles.route("GET", "/admin/import", ("admin",))
def import_page(request, auth):
    q = request.query_params  # the counts of the import just made (the POST redirects here with them)
    done = {k: int(q[k]) for k in ("imported", "skipped") if is_digits(q.get(k, ""))}
    return page(request, auth, "import.html", batches=batches.batches(auth.db, newest_first=True), done=done)


@roles.route("POST", "/admin/import", ("admin",))
def import_submit(request, auth):
    from celm.server.io import BadImport, import_upload

    upload = auth.form.get("file")
    if not hasattr(upload, "file"):
        raise WorkflowError("choose a file")
    new_round_of = int_field(auth.form.get("new_round_of"), "new_round_of")
    wants_json = "application/json" in request.headers.get("accept", "")
    try:
        result = import_upload(auth.db, upload.filename or "upload.jsonl", upload.file.read(),
                               name=str(auth.form.get("name") or upload.filename), task=str(auth.form.get("task") or "rating"),
                               fmt=str(auth.form.get("format") or "celm"), new_round_of=new_round_of,
                               settings=settings_of(request), by=auth.user, address=auth.address)
    except BadImport as exc:
        if wants_json:  # each file:line error on its own, for a script to show
            return JSONResponse({"detail": str(exc), "errors": exc.errors}, status_code=422)
        raise
    if wants_json:
        # batch_id is null when every item was already present (no empty batch is made)
        return {"batch_id": result.batch.id if result.batch else None, "items": result.items, "skipped": result.skipped,
                "skipped_annotations": result.skipped_annotations, "new_round_of": new_round_of}
    return RedirectResponse("/admin/import?" + urlencode({"imported": result.items, "skipped": result.skipped}), status_code=303)


@roles.route("GET", "/api/batches", ("admin",), api=True)
def api_batches(request, auth):
    """Every batch with its items counted by status: a script waits on this until a batch is done."""
    return {"batches": batches.batch_summaries(auth.db)}


@roles.route("POST", "/api/batches/{batch_id}/close", ("admin",), api=True)
def api_close_batch(request, auth, batch_id):
    """Send the batch's finished items not yet in a block to review, however few; the blocks made."""
    blocks = review.close_batch(auth.db, auth.user, int_field(batch_id, "batch_id"), settings_of(request),
                                address=auth.address)
    return {"blocks": [b.id for b in blocks]}


@roles.route("POST", "/admin/batches/{batch_id}/close", ("admin",))
def close_batch(request, auth, batch_id):
    review.close_batch(auth.db, auth.user, int_field(batch_id, "batch_id"), settings_of(request), address=auth.address)
    return RedirectResponse("/admin/import", status_code=303)


@roles.route("GET", "/export/{batch_id}/{kind}", ("admin",))
def export(request, auth, batch_id, kind):
    from celm.server.io import export_batch

    body, filename, media = export_batch(auth.db, int_field(batch_id, "batch_id"), kind, by=auth.user, address=auth.address)
    return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


# -- audit trail -----------------------------------------------------------------------------------
def audit_filters(request: Request) -> dict:
    q = request.query_params
    try:
        since = audit.parse_since(q.get("since"))
    except ValueError as exc:
        raise WorkflowError(str(exc), 422) from None
    action = q.get("action") or None
    if action and action not in audit.ACTIONS:
        raise WorkflowError(f"action must be one of {', '.join(audit.ACTIONS)}", 422)
    return {"since": since, "action": action, "username": q.get("user") or None,
            "before": int_field(q.get("before"), "before")}


@roles.route("GET", "/admin/audit", ("admin",))
def audit_page(request, auth):
    rows = audit.entries(auth.db, **audit_filters(request), limit=AUDIT_PAGE)
    shown = {k: request.query_params.get(k, "") for k in ("since", "action", "user")}
    kept = {k: v for k, v in shown.items() if v}
    older = "/admin/audit?" + urlencode({**kept, "before": rows[-1].id}) if len(rows) == AUDIT_PAGE else None
    newest = "/admin/audit?" + urlencode(kept) if request.query_params.get("before") else None
    return page(request, auth, "audit.html", rows=[(e, audit.details_text(e)) for e in rows], actions=audit.ACTIONS,
                shown=shown, older=older, newest=newest)


@roles.route("GET", "/api/audit", ("admin",), api=True)
def audit_api(request, auth):
    """Newest first; pass ``before=next_before`` for the next (older) page."""
    limit = min(int_field(request.query_params.get("limit"), "limit") or 100, 1000)
    rows = audit.entries(auth.db, **audit_filters(request), limit=limit)
    return {"entries": [audit.as_dict(e) for e in rows], "next_before": rows[-1].id if len(rows) == limit else None}
