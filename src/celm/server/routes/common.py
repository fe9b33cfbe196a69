"""What every route module shares: the role guard (which also checks the CSRF token of every
state-changing request), the ``route(...)`` decorator that declares a route's roles, page rendering,
and the navigation table the header links are drawn from.

Per-app objects (settings, session maker, sessions, login limiter, templates) live on ``app.state``,
set by :func:`celm.server.app.create_app`, so the routers themselves are plain module-level objects."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from celm.server.errors import WorkflowError
from celm.server.i18n import translator
from celm.server.models import ROLES, User, WebSession
from celm.server.security import PRE_CSRF_COOKIE, SESSION_COOKIE, same_token
from celm.server.settings import ServerSettings

ANY = ROLES

#: the header's links, one row per link: (path, label key for ``t()``, roles that see it). Each path is
#: a GET route whose declared roles must be exactly these (checked by :func:`check_nav` at start-up).
NAV: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("/test", "test", ("annotator",)),
    ("/annotate", "annotate", ("annotator",)),
    ("/adjudicate", "adjudicate", ("senior",)),
    ("/review", "review", ("reviewer",)),
    ("/dashboard", "dashboard", ("admin", "senior", "reviewer")),
    ("/admin/users", "users", ("admin",)),
    ("/admin/import", "import", ("admin",)),
    ("/admin/test", "questions", ("admin",)),
    ("/admin/audit", "audit", ("admin",)),
    ("/redteam", "redteam", ("redteamer",)),
    ("/redteam/leaderboard", "leaderboard", ("redteamer", "admin")),
)


def check_nav(route_roles: dict[str, tuple[str, ...]]) -> None:
    """Every nav link points at a GET route with the very roles the link is shown to."""
    for path, key, roles in NAV:
        declared = route_roles.get(f"GET {path}")
        if declared is None or set(declared) != set(roles):
            raise RuntimeError(f"nav link {path} ({key}) is shown to {roles} but the route allows {declared}")


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


def is_digits(value) -> bool:
    """Only ASCII digits 0-9: ``str.isdigit`` alone also takes ``²`` and the like, which ``int`` refuses."""
    text = str(value)
    return text.isascii() and text.isdigit()


#: the largest integer SQLite (and PostgreSQL's BIGINT) stores: an id past it names nothing
MAX_ID = 2**63 - 1


def is_id(value) -> bool:
    """A value that can be a row's id: a true int (``true`` is no id) or ASCII digits, 0 to :data:`MAX_ID`."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return 0 <= value <= MAX_ID
    return isinstance(value, str) and is_digits(value) and len(value) <= 19 and int(value) <= MAX_ID


def int_field(value, name: str) -> int | None:
    """An optional id / count in a path, form or query: empty is None; anything but ASCII digits
    within the database's integer range is refused (422), before it reaches a query."""
    if value in (None, ""):
        return None
    if not is_id(value):
        raise WorkflowError(f"{name} must be a number from 0 to {MAX_ID}", 422)
    return int(value)


def item_json(item) -> dict:
    """What the JSON API shows of an item: the text to judge, never the model or a judge's verdict."""
    return {"id": item.id, "external_id": item.external_id, "instruction": item.instruction,
            "response": item.response, "scenario": item.scenario, "task": item.batch.task}


def body_item_id(auth) -> tuple[dict, int]:
    """(the JSON body, its integer ``item_id``), or a 422 that says so."""
    body = auth.body if isinstance(auth.body, dict) else {}
    if not isinstance(body.get("item_id"), int) or not is_id(body["item_id"]):
        raise WorkflowError("item_id (integer) is required", 422)
    return body, body["item_id"]


def settings_of(request: Request) -> ServerSettings:
    return request.app.state.settings


def get_db(request: Request):
    s = request.app.state.maker()
    try:
        yield s
    finally:
        s.close()


def lang_of(request: Request) -> str:
    return "en" if request.cookies.get("lang") == "en" else "zh"


def page(request: Request, auth: Auth | None, template: str, status_code: int = 200, **ctx):
    lang = lang_of(request)
    ctx.update(request=request, t=translator(lang), lang=lang, user=auth.user if auth else None,
               csrf=auth.session.csrf if auth else request.cookies.get(PRE_CSRF_COOKIE, ""), nav=NAV)
    return request.app.state.templates.TemplateResponse(request, template, ctx, status_code=status_code)


class Guard:
    def __init__(self, roles, api: bool = False):
        self.roles, self.api = roles, api

    async def __call__(self, request: Request, db: Session = Depends(get_db)) -> Auth:
        sessions = request.app.state.sessions
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
                if not same_token(token, ws.csrf):  # before the body: a forged request is not even read
                    raise HTTPException(403, "missing or wrong CSRF token")
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


class RoleRouter:
    """One area's routes. ``route(...)`` registers one behind the guard, declaring the roles that may
    use it (``route_roles``, "METHOD /path" -> roles); ``public(...)`` one that anyone may use.
    ``include_in(app)`` adds them to the app, in the order they were declared (directly on the app,
    so ``app.routes`` lists every route with its path)."""

    def __init__(self):
        self.entries: list[tuple[str, Any, str, dict]] = []
        self.route_roles: dict[str, tuple[str, ...]] = {}

    def public(self, method: str, path: str, **kwargs):
        def deco(fn):
            self.entries.append((path, fn, method, kwargs))
            return fn

        return deco

    def route(self, method: str, path: str, roles, *, api: bool = False):
        self.route_roles[f"{method} {path}"] = tuple(roles)
        guard = Guard(tuple(roles), api=api)

        def deco(fn):
            def endpoint(request: Request, auth: Auth = Depends(guard)):
                try:
                    return fn(request, auth, **request.path_params)
                except WorkflowError as exc:
                    if api or exc.status in (401, 403, 404):
                        raise HTTPException(exc.status, str(exc)) from None
                    return page(request, auth, "message.html", message=str(exc), status_code=exc.status)

            endpoint.__name__ = fn.__name__
            self.entries.append((path, endpoint, method, {"response_model": None}))
            return fn

        return deco

    def include_in(self, app: FastAPI) -> None:
        for path, endpoint, method, kwargs in self.entries:
            app.add_api_route(path, endpoint, methods=[method], **kwargs)
        app.state.route_roles.update(self.route_roles)
