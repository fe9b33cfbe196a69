"""HTTP for the annotation app: every route declares the roles that may use it (``ROUTE_ROLES``),
checked on the server by one guard, which also checks the CSRF token of every state-changing request.
Pages are Jinja2 with autoescaping, so stored text is always shown as text."""

import json
import secrets
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from celm.server import agreement, audit, backup, workflow
from celm.server.db import make_engine, make_sessionmaker, migrate
from celm.server.guideline import LABELS, OVERALL, RANKS
from celm.server.i18n import translator
from celm.server.models import ROLES, Batch, Item, RedTeamAttempt, ReviewBlock, TestQuestion, User, WebSession
from celm.server.security import (
    DUMMY_HASH,
    PRE_CSRF_COOKIE,
    SESSION_COOKIE,
    LoginLimiter,
    Sessions,
    same_token,
    security_headers,
    verify_password,
)
from celm.server.settings import ServerSettings

ANY = ROLES
PUBLIC = ("GET /login", "POST /login", "GET /lang/{code}", "GET /healthz")
AUDIT_PAGE = 100  # entries per page of /admin/audit


class NeedLogin(Exception):
    pass


@dataclass
class Auth:
    db: Session
    user: User
    session: WebSession
    address: str | None = None  # the client's, for the audit trail
    form: dict[str, Any] = field(default_factory=dict)
    body: Any = None


def client_address(request: Request) -> str | None:
    """The peer address (behind a reverse proxy on this machine, uvicorn takes it from X-Forwarded-For)."""
    return request.client.host if request.client else None


def _int_field(value, name: str) -> int | None:
    """An optional integer form / query field: empty is None, anything else but digits is refused."""
    if value in (None, ""):
        return None
    if not str(value).isdigit():
        raise workflow.WorkflowError(f"{name} must be a number", 422)
    return int(value)


def app_from_env() -> FastAPI:
    """The app for ``uvicorn --factory`` worker processes: settings arrive as JSON in CELM_SERVER_SETTINGS."""
    import os

    raw = json.loads(os.environ["CELM_SERVER_SETTINGS"])
    raw["redteam_models"] = tuple(raw.get("redteam_models", ()))
    return create_app(ServerSettings(**raw))


def create_app(settings: ServerSettings | None = None) -> FastAPI:
    settings = settings or ServerSettings()
    # first of all: while this app is up, `celm serve restore` refuses this database (see backup.py)
    db_lock = backup.hold_app_lock(settings.db_url)
    if settings.migrate:
        migrate(settings.db_url)
    engine = make_engine(settings.db_url)
    maker = make_sessionmaker(engine)
    sessions = Sessions(settings.secret_key, settings.session_ttl_s)
    limiter = LoginLimiter(settings.login_attempts, settings.login_window_s)
    templates = Jinja2Templates(directory=str(files("celm.server") / "templates"))

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        if db_lock is not None:  # served and shut down: the database may be restored now
            db_lock.close()

    app = FastAPI(title="celm annotation", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.db_lock = db_lock

    @app.middleware("http")
    async def _security_headers(request: Request, call_next):
        # A fresh nonce per response lets the one inline <style> of base.html through the CSP; no
        # script runs on any page, and no page may be framed (clickjacking on the rating forms).
        request.state.csp_nonce = secrets.token_urlsafe(16)
        response = await call_next(request)
        response.headers.update(security_headers(request.state.csp_nonce))
        return response
    app.state.settings, app.state.engine, app.state.maker = settings, engine, maker
    app.state.route_roles = {}

    with maker() as s:
        workflow.ensure_test_questions(s)

    def get_db():
        s = maker()
        try:
            yield s
        finally:
            s.close()

    class Guard:
        def __init__(self, roles, api: bool = False):
            self.roles, self.api = roles, api

        async def __call__(self, request: Request, db: Session = Depends(get_db)) -> Auth:
            found = await run_in_threadpool(sessions.load, db, request.cookies.get(SESSION_COOKIE))
            if found is None:
                if self.api:
                    raise HTTPException(401, "log in first")
                raise NeedLogin()
            user, ws = found
            if user.role not in self.roles:
                raise HTTPException(403, "not allowed for your role")
            auth = Auth(db, user, ws, address=client_address(request))
            if request.method == "POST":
                if request.headers.get("content-type", "").startswith("application/json"):
                    token = request.headers.get("x-csrf-token")
                    try:
                        auth.body = await request.json()
                    except json.JSONDecodeError:
                        raise HTTPException(400, "body is not JSON") from None
                else:
                    form = await request.form()
                    auth.form = {k: form.getlist(k) if len(form.getlist(k)) > 1 else form.get(k) for k in form.keys()}
                    token = auth.form.get("csrf") or request.headers.get("x-csrf-token")
                if not same_token(token, ws.csrf):
                    raise HTTPException(403, "missing or wrong CSRF token")
            return auth

    def route(method: str, path: str, roles, *, api: bool = False):
        app.state.route_roles[f"{method} {path}"] = tuple(roles)
        guard = Guard(tuple(roles), api=api)

        def deco(fn):
            def endpoint(request: Request, auth: Auth = Depends(guard)):
                try:
                    return fn(request, auth, **request.path_params)
                except workflow.WorkflowError as exc:
                    if api or exc.status in (401, 403, 404):
                        raise HTTPException(exc.status, str(exc)) from None
                    return page(request, auth, "message.html", message=str(exc), status_code=exc.status)

            endpoint.__name__ = fn.__name__
            app.add_api_route(path, endpoint, methods=[method], response_model=None)
            return fn

        return deco

    def lang_of(request: Request) -> str:
        return "en" if request.cookies.get("lang") == "en" else "zh"

    def page(request: Request, auth: Auth | None, template: str, status_code: int = 200, **ctx):
        lang = lang_of(request)
        ctx.update(request=request, t=translator(lang), lang=lang, user=auth.user if auth else None,
                   csrf=auth.session.csrf if auth else request.cookies.get(PRE_CSRF_COOKIE, ""))
        return templates.TemplateResponse(request, template, ctx, status_code=status_code)

    @app.exception_handler(NeedLogin)
    async def _need_login(request: Request, exc: NeedLogin):
        return RedirectResponse("/login", status_code=303)

    # -- public -----------------------------------------------------------------------------------
    @app.get("/healthz")
    def healthz():
        return {"ok": True}

    @app.get("/lang/{code}")
    def set_lang(code: str, request: Request):
        resp = RedirectResponse(request.headers.get("referer") or "/", status_code=303)
        resp.set_cookie("lang", "en" if code == "en" else "zh", samesite="lax", max_age=365 * 86400)
        return resp

    @app.get("/login", response_class=HTMLResponse)
    def login_form(request: Request):
        token = request.cookies.get(PRE_CSRF_COOKIE) or secrets.token_urlsafe(32)
        request.cookies[PRE_CSRF_COOKIE] = token
        resp = page(request, None, "login.html")
        resp.set_cookie(PRE_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=settings.secure_cookies)
        return resp

    @app.post("/login")
    async def login(request: Request, db: Session = Depends(get_db)):
        form = await request.form()
        if not same_token(form.get("csrf"), request.cookies.get(PRE_CSRF_COOKIE)):
            raise HTTPException(403, "missing or wrong CSRF token")
        username, password = str(form.get("username", "")).strip(), str(form.get("password", ""))
        address = client_address(request)
        peer = address or "-"  # the limiter's key
        if limiter.blocked(username, peer):
            await run_in_threadpool(login_failed, db, username, address, "rate_limited")
            return page(request, None, "login.html", error="too_many", status_code=429)
        user = await run_in_threadpool(lambda: db.scalar(select(User).where(User.username == username)))
        # Verify against a dummy hash for unknown users too, so the answer takes as long either way
        # (no user enumeration by timing).
        stored = user.password_hash if user is not None else DUMMY_HASH
        verified = await run_in_threadpool(verify_password, stored, password)
        if not (verified and user is not None and user.active):
            limiter.failed(username, peer)
            reason = "unknown_user" if user is None else "bad_password" if not verified else "inactive"
            await run_in_threadpool(login_failed, db, username, address, reason)  # same write either way: no timing tell
            return page(request, None, "login.html", error="bad_login", status_code=401)
        limiter.succeeded(username, peer)
        cookie, _ = await run_in_threadpool(logged_in, db, user, address)
        resp = RedirectResponse("/", status_code=303)
        resp.set_cookie(SESSION_COOKIE, cookie, httponly=True, samesite="lax", secure=settings.secure_cookies)
        return resp

    # Logins are audited here, the one place they happen; every other action in its workflow function.
    def login_failed(db: Session, username: str, address: str | None, reason: str) -> None:
        # no user id: nobody was authenticated; username is the name that was tried
        audit.record(db, "login_failed", username=username, address=address, reason=reason)
        db.commit()

    def logged_in(db: Session, user: User, address: str | None):
        audit.record(db, "login", user=user, address=address)
        return sessions.start(db, user)  # its commit writes the audit entry with the new session

    @route("POST", "/logout", ANY)
    def logout(request, auth):
        auth.db.delete(auth.session)
        auth.db.commit()
        resp = RedirectResponse("/login", status_code=303)
        resp.delete_cookie(SESSION_COOKIE)
        return resp

    @route("GET", "/api/me", ANY, api=True)
    def me(request, auth):
        return {"username": auth.user.username, "role": auth.user.role, "qualified": auth.user.qualified,
                "csrf": auth.session.csrf}

    @route("GET", "/", ANY)
    def home(request, auth):
        start = {"admin": "/dashboard", "senior": "/adjudicate", "reviewer": "/review", "redteamer": "/redteam",
                 "annotator": "/annotate" if auth.user.qualified else "/test"}[auth.user.role]
        return RedirectResponse(start, status_code=303)

    # -- competence test ---------------------------------------------------------------------------
    @route("GET", "/test", ("annotator",))
    def test_page(request, auth):
        qs = auth.db.scalars(select(TestQuestion).order_by(TestQuestion.id)).all()
        return page(request, auth, "test.html", questions=qs, ranks=RANKS, overall=OVERALL)

    @route("POST", "/test", ("annotator",))
    def test_submit(request, auth):
        answers = {}
        for key, value in auth.form.items():
            if key.startswith("q") and key[1:].isdigit() and str(value).isdigit():
                answers[int(key[1:])] = int(value)
        attempt = workflow.grade_test(auth.db, auth.user, answers, settings, address=auth.address)
        return page(request, auth, "message.html", message=f"{attempt.correct}/{attempt.total}",
                    message_key="passed" if attempt.passed else "failed")

    # -- rating ------------------------------------------------------------------------------------
    @route("GET", "/annotate", ("annotator",))
    def annotate_page(request, auth):
        item = workflow.next_item(auth.db, auth.user)
        return page(request, auth, "annotate.html", item=item, task=item.batch.task if item else None,
                    ranks=RANKS, labels=LABELS, overall=OVERALL)

    @route("POST", "/annotate/{item_id}", ("annotator",))
    def annotate_submit(request, auth, item_id):
        f = auth.form
        workflow.submit_rating(auth.db, auth.user, int(item_id), score=int(f["score"]) if str(f.get("score", "")).isdigit() else None,
                               label=f.get("label"), safety_flag=bool(f.get("safety_flag")), comment=str(f.get("comment", "")),
                               settings=settings, address=auth.address)
        return RedirectResponse("/annotate", status_code=303)

    @route("GET", "/api/next", ("annotator",), api=True)
    def api_next(request, auth):
        item = workflow.next_item(auth.db, auth.user)
        if item is None:
            return {"item": None}
        return {"item": {"id": item.id, "external_id": item.external_id, "instruction": item.instruction,
                         "response": item.response, "scenario": item.scenario, "task": item.batch.task}}

    @route("POST", "/api/ratings", ("annotator",), api=True)
    def api_rate(request, auth):
        b = auth.body if isinstance(auth.body, dict) else {}
        if not isinstance(b.get("item_id"), int):
            raise workflow.WorkflowError("item_id (integer) is required", 422)
        r = workflow.submit_rating(auth.db, auth.user, b["item_id"], score=b.get("score"), label=b.get("label"),
                                   safety_flag=bool(b.get("safety_flag")), comment=str(b.get("comment") or ""), settings=settings,
                                   address=auth.address)
        return {"rating_id": r.id, "item_id": r.item_id}

    @route("GET", "/api/test", ("annotator",), api=True)
    def api_test(request, auth):
        qs = auth.db.scalars(select(TestQuestion).order_by(TestQuestion.id)).all()
        return {"questions": [{"id": q.id, "instruction": q.instruction, "response": q.response} for q in qs]}

    @route("POST", "/api/test", ("annotator",), api=True)
    def api_test_submit(request, auth):
        b = auth.body if isinstance(auth.body, dict) else {}
        raw = b.get("answers")
        if not isinstance(raw, dict):
            raise workflow.WorkflowError("answers must map question ids to ranks 0-6", 422)
        try:
            answers = {int(k): int(v) for k, v in raw.items()}
        except (TypeError, ValueError):
            raise workflow.WorkflowError("answers must map question ids to ranks 0-6", 422) from None
        attempt = workflow.grade_test(auth.db, auth.user, answers, settings, address=auth.address)
        return {"correct": attempt.correct, "total": attempt.total, "passed": attempt.passed}

    # -- adjudication ------------------------------------------------------------------------------
    @route("GET", "/api/adjudication", ("senior",), api=True)
    def api_adjudication(request, auth):
        """The items awaiting a senior, with both annotators' judgements (names kept: a senior sees them)."""
        names = {u.id: u.username for u in auth.db.scalars(select(User))}
        out = []
        for item in workflow.adjudication_queue(auth.db, auth.user):
            ratings = [{"annotator": names.get(r.user_id), "score": r.score, "label": r.label, "comment": r.comment}
                       for r in workflow.item_ratings(auth.db, item) if r.role == "annotator"]
            out.append({"id": item.id, "external_id": item.external_id, "instruction": item.instruction,
                        "response": item.response, "scenario": item.scenario, "task": item.batch.task, "ratings": ratings})
        return {"items": out}

    @route("POST", "/api/adjudications", ("senior",), api=True)
    def api_adjudicate(request, auth):
        b = auth.body if isinstance(auth.body, dict) else {}
        if not isinstance(b.get("item_id"), int):
            raise workflow.WorkflowError("item_id (integer) is required", 422)
        item = workflow.adjudicate(auth.db, auth.user, b["item_id"], score=b.get("score"), label=b.get("label"),
                                   comment=str(b.get("comment") or ""), settings=settings, address=auth.address)
        return {"item_id": item.id, "status": item.status}

    @route("GET", "/adjudicate", ("senior",))
    def adjudicate_page(request, auth):
        queue = workflow.adjudication_queue(auth.db, auth.user)
        item = queue[0] if queue else None
        ratings = workflow.item_ratings(auth.db, item) if item else []
        names = {u.id: u.username for u in auth.db.scalars(select(User))}
        return page(request, auth, "adjudicate.html", item=item, ratings=ratings, names=names, waiting=len(queue),
                    task=item.batch.task if item else None, ranks=RANKS, labels=LABELS, overall=OVERALL)

    @route("POST", "/adjudicate/{item_id}", ("senior",))
    def adjudicate_submit(request, auth, item_id):
        f = auth.form
        workflow.adjudicate(auth.db, auth.user, int(item_id), score=int(f["score"]) if str(f.get("score", "")).isdigit() else None,
                            label=f.get("label"), comment=str(f.get("comment", "")), settings=settings, address=auth.address)
        return RedirectResponse("/adjudicate", status_code=303)

    # -- acceptance review -------------------------------------------------------------------------
    @route("GET", "/review", ("reviewer",))
    def review_list(request, auth):
        blocks = auth.db.scalars(select(ReviewBlock).order_by(ReviewBlock.id.desc())).all()
        return page(request, auth, "review_list.html", blocks=blocks, bar=settings.acceptance_bar)

    @route("GET", "/review/{block_id}", ("reviewer",))
    def review_page(request, auth, block_id):
        block = auth.db.get(ReviewBlock, int(block_id))
        if block is None:
            raise workflow.WorkflowError("no such block", 404)
        items = [auth.db.get(Item, i) for i in block.sample]
        return page(request, auth, "review.html", block=block, items=items, bar=settings.acceptance_bar, ranks=RANKS)

    @route("POST", "/review/{block_id}", ("reviewer",))
    def review_submit(request, auth, block_id):
        block = auth.db.get(ReviewBlock, int(block_id))
        if block is None:
            raise workflow.WorkflowError("no such block", 404)
        verdicts = {i: auth.form.get(f"v{i}") == "1" for i in block.sample if auth.form.get(f"v{i}") in ("0", "1")}
        workflow.review_block(auth.db, auth.user, block.id, verdicts, settings, address=auth.address)
        return RedirectResponse("/review", status_code=303)

    # -- dashboard ---------------------------------------------------------------------------------
    @route("GET", "/dashboard", ("admin", "senior", "reviewer"))
    def dashboard_page(request, auth):
        return page(request, auth, "dashboard.html", d=agreement.dashboard(auth.db))

    @route("GET", "/api/dashboard", ("admin", "senior", "reviewer"), api=True)
    def dashboard_api(request, auth):
        return agreement.dashboard(auth.db)

    # -- admin -------------------------------------------------------------------------------------
    @route("GET", "/admin/users", ("admin",))
    def users_page(request, auth):
        return page(request, auth, "users.html", users=auth.db.scalars(select(User).order_by(User.id)).all(), roles=ROLES)

    @route("POST", "/admin/users", ("admin",))
    def users_create(request, auth):
        f = auth.form
        workflow.create_user(auth.db, str(f.get("username", "")), str(f.get("password", "")), str(f.get("role", "")),
                             by=auth.user, address=auth.address)
        return RedirectResponse("/admin/users", status_code=303)

    @route("POST", "/admin/users/{user_id}/role", ("admin",))
    def users_set_role(request, auth, user_id):
        workflow.set_role(auth.db, auth.user, int(user_id), str(auth.form.get("role", "")), address=auth.address)
        return RedirectResponse("/admin/users", status_code=303)

    @route("GET", "/admin/test", ("admin",))
    def test_admin(request, auth):
        return page(request, auth, "test_admin.html", questions=auth.db.scalars(select(TestQuestion).order_by(TestQuestion.id)).all())

    @route("POST", "/admin/test", ("admin",))
    def test_admin_set(request, auth):
        import yaml

        upload = auth.form.get("file")
        text = (upload.file.read().decode("utf-8-sig") if hasattr(upload, "file") else str(auth.form.get("questions", "")))
        questions = yaml.safe_load(text) or []
        if not isinstance(questions, list):
            raise workflow.WorkflowError("expected a list of {instruction, response, score}")
        workflow.set_test_questions(auth.db, questions)
        return RedirectResponse("/admin/test", status_code=303)

    @route("GET", "/admin/import", ("admin",))
    def import_page(request, auth):
        batches = auth.db.scalars(select(Batch).order_by(Batch.id.desc())).all()
        q = request.query_params  # the counts of the import just made (the POST redirects here with them)
        done = {k: int(q[k]) for k in ("imported", "skipped") if q.get(k, "").isdigit()}
        return page(request, auth, "import.html", batches=batches, done=done)

    @route("POST", "/admin/import", ("admin",))
    def import_submit(request, auth):
        from celm.server.io import import_upload

        upload = auth.form.get("file")
        if not hasattr(upload, "file"):
            raise workflow.WorkflowError("choose a file")
        new_round_of = _int_field(auth.form.get("new_round_of"), "new_round_of")
        result = import_upload(auth.db, upload.filename or "upload.jsonl", upload.file.read(),
                               name=str(auth.form.get("name") or upload.filename), task=str(auth.form.get("task") or "rating"),
                               fmt=str(auth.form.get("format") or "celm"), new_round_of=new_round_of,
                               settings=settings, by=auth.user, address=auth.address)
        if "application/json" in request.headers.get("accept", ""):
            # batch_id is null when every item was already present (no empty batch is made)
            return {"batch_id": result.batch.id if result.batch else None, "items": result.items, "skipped": result.skipped,
                    "skipped_annotations": result.skipped_annotations, "new_round_of": new_round_of}
        return RedirectResponse("/admin/import?" + urlencode({"imported": result.items, "skipped": result.skipped}), status_code=303)

    @route("GET", "/api/batches", ("admin",), api=True)
    def api_batches(request, auth):
        """Every batch with its items counted by status: a script waits on this until a batch is done."""
        from sqlalchemy import func

        counts: dict[int, dict[str, int]] = {}
        for batch_id, status, n in auth.db.execute(select(Item.batch_id, Item.status, func.count()).group_by(Item.batch_id, Item.status)):
            counts.setdefault(batch_id, {})[status] = n
        return {"batches": [{"id": b.id, "name": b.name, "task": b.task, "source": b.source, "round_of": b.round_of,
                             "items": sum(counts.get(b.id, {}).values()), "status": counts.get(b.id, {})}
                            for b in auth.db.scalars(select(Batch).order_by(Batch.id))]}

    @route("POST", "/admin/batches/{batch_id}/close", ("admin",))
    def close_batch(request, auth, batch_id):
        workflow.close_batch(auth.db, auth.user, int(batch_id), settings, address=auth.address)
        return RedirectResponse("/admin/import", status_code=303)

    @route("GET", "/export/{batch_id}/{kind}", ("admin",))
    def export(request, auth, batch_id, kind):
        from celm.server.io import export_batch

        body, filename, media = export_batch(auth.db, int(batch_id), kind, by=auth.user, address=auth.address)
        return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{filename}"'})

    # -- audit trail -------------------------------------------------------------------------------
    def audit_filters(request: Request) -> dict:
        q = request.query_params
        try:
            since = audit.parse_since(q.get("since"))
        except ValueError as exc:
            raise workflow.WorkflowError(str(exc), 422) from None
        action = q.get("action") or None
        if action and action not in audit.ACTIONS:
            raise workflow.WorkflowError(f"action must be one of {', '.join(audit.ACTIONS)}", 422)
        return {"since": since, "action": action, "username": q.get("user") or None,
                "before": _int_field(q.get("before"), "before")}

    @route("GET", "/admin/audit", ("admin",))
    def audit_page(request, auth):
        rows = audit.entries(auth.db, **audit_filters(request), limit=AUDIT_PAGE)
        shown = {k: request.query_params.get(k, "") for k in ("since", "action", "user")}
        kept = {k: v for k, v in shown.items() if v}
        older = "/admin/audit?" + urlencode({**kept, "before": rows[-1].id}) if len(rows) == AUDIT_PAGE else None
        newest = "/admin/audit?" + urlencode(kept) if request.query_params.get("before") else None
        return page(request, auth, "audit.html", rows=[(e, audit.details_text(e)) for e in rows], actions=audit.ACTIONS,
                    shown=shown, older=older, newest=newest)

    @route("GET", "/api/audit", ("admin",), api=True)
    def audit_api(request, auth):
        """Newest first; pass ``before=next_before`` for the next (older) page."""
        limit = min(_int_field(request.query_params.get("limit"), "limit") or 100, 1000)
        rows = audit.entries(auth.db, **audit_filters(request), limit=limit)
        return {"entries": [audit.as_dict(e) for e in rows], "next_before": rows[-1].id if len(rows) == limit else None}

    # -- red teaming -------------------------------------------------------------------------------
    @route("GET", "/redteam", ("redteamer",))
    def redteam_page(request, auth):
        from celm.taxonomy import get_taxonomy

        mine = auth.db.scalars(select(RedTeamAttempt).where(RedTeamAttempt.user_id == auth.user.id)
                               .order_by(RedTeamAttempt.id.desc()).limit(20)).all()
        return page(request, auth, "redteam.html", attempts=mine, scenarios=get_taxonomy().scenarios, models=settings.redteam_models)

    @route("POST", "/redteam", ("redteamer",))
    def redteam_submit(request, auth):
        f = auth.form
        workflow.redteam_attempt(auth.db, auth.user, str(f.get("prompt", "")), str(f.get("scenario", "")),
                                 str(f.get("model", "")), settings)
        return RedirectResponse("/redteam", status_code=303)

    @route("POST", "/redteam/{attempt_id}/mark", ("redteamer",))
    def redteam_mark(request, auth, attempt_id):
        workflow.mark_attempt(auth.db, auth.user, int(attempt_id), auth.form.get("unsafe") == "1", str(auth.form.get("notes", "")))
        return RedirectResponse("/redteam", status_code=303)

    @route("GET", "/redteam/leaderboard", ("redteamer", "admin"))
    def redteam_board(request, auth):
        return page(request, auth, "leaderboard.html", rows=workflow.leaderboard(auth.db))

    @route("GET", "/export/redteam", ("admin", "redteamer"))
    def redteam_export(request, auth):
        from celm.server.io import redteam_items_jsonl

        return Response(redteam_items_jsonl(auth.db, by=auth.user, address=auth.address), media_type="application/x-ndjson",
                        headers={"Content-Disposition": 'attachment; filename="redteam_eval_items.jsonl"'})

    return app
