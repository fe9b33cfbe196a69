"""HTTP for the annotation app: the routes live in :mod:`celm.server.routes`, one router per area;
every route declares the roles that may use it (``app.state.route_roles``), checked on the server by
one guard, which also checks the CSRF token of every state-changing request
(:mod:`celm.server.routes.common`). Pages are Jinja2 with autoescaping, so stored text is always shown
as text. This module wires them together: settings, database, middleware, templates, exception handlers."""

import json
import secrets
from contextlib import asynccontextmanager
from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from celm.server import backup, competence
from celm.server.db import make_engine, make_sessionmaker, migrate, schema_lock
from celm.server.limits import BodyLimit
from celm.server.proxy import HostCheck
from celm.server.routes import ROUTERS, check_nav
from celm.server.routes.common import NeedLogin
from celm.server.security import LoginLimiter, Sessions, harden
from celm.server.settings import ServerSettings

PUBLIC = ("GET /login", "POST /login", "GET /lang/{code}", "GET /healthz")


def app_from_env() -> FastAPI:
    """The app for ``uvicorn --factory`` worker processes: settings arrive as JSON in CELM_SERVER_SETTINGS."""
    import os

    raw = json.loads(os.environ["CELM_SERVER_SETTINGS"])
    for key in ("redteam_models", "forwarded_allow_ips", "allowed_hosts"):  # JSON has lists, the settings tuples
        if key in raw:
            raw[key] = tuple(raw[key])
    return create_app(ServerSettings(**raw))


def create_app(settings: ServerSettings | None = None) -> FastAPI:
    settings = settings or ServerSettings()
    # first of all: while this app is up, `celm serve restore` refuses this database (see backup.py)
    db_lock = backup.hold_app_lock(settings.db_url)
    if settings.migrate:
        migrate(settings.db_url)
    engine = make_engine(settings.db_url)
    maker = make_sessionmaker(engine)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        if db_lock is not None:  # served and shut down: the database may be restored now
            db_lock.close()

    app = FastAPI(title="celm annotation", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.db_lock = db_lock

    # inside the security headers (added after them), so their refusals carry the headers too
    app.add_middleware(BodyLimit, settings=settings)
    app.add_middleware(HostCheck, allowed=settings.allowed_hosts)

    @app.middleware("http")
    async def _security_headers(request: Request, call_next):
        # A fresh nonce per response lets the one inline <style> of base.html through the CSP; no
        # script runs on any page, and no page may be framed (clickjacking on the rating forms).
        request.state.csp_nonce = secrets.token_urlsafe(16)
        return harden(await call_next(request), request.state.csp_nonce)

    @app.exception_handler(Exception)
    async def _server_error(request: Request, exc: Exception):
        # Starlette answers a 500 outside every middleware: the headers are added here, and the
        # exception still reaches the server log.
        nonce = getattr(request.state, "csp_nonce", None) or secrets.token_urlsafe(16)
        return harden(PlainTextResponse("服务器内部错误 / internal server error", status_code=500), nonce)

    # what the routes read off request.app.state
    app.state.settings, app.state.engine, app.state.maker = settings, engine, maker
    app.state.sessions = Sessions(settings.secret_key, settings.session_ttl_s, settings.session_max_s)
    app.state.limiter = LoginLimiter(settings.login_attempts, settings.login_window_s)
    app.state.templates = Jinja2Templates(directory=str(files("celm.server") / "templates"))

    with schema_lock(settings.db_url), maker() as s:  # one first start seeds (several servers, one database)
        competence.ensure_test_questions(s)

    @app.exception_handler(NeedLogin)
    async def _need_login(request: Request, exc: NeedLogin):
        return RedirectResponse("/login", status_code=303)

    # the static files (the annotate page's keyboard script): public, read-only, from the package
    app.mount("/static", StaticFiles(directory=str(files("celm.server") / "static")), name="static")
    app.state.route_roles = {}
    for router in ROUTERS:
        router.include_in(app)
    check_nav(app.state.route_roles)
    return app
