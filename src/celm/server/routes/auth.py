"""Logging in and out, the language switch, the health check and the start page."""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from celm.server import audit, users
from celm.server.models import User
from celm.server.routes.common import ANY, RoleRouter, client_address, get_db, page
from celm.server.security import DUMMY_HASH, PRE_CSRF_COOKIE, SESSION_COOKIE, same_token, verify_password

roles = RoleRouter()


@roles.public("GET", "/healthz")
def healthz():
    return {"ok": True}


@roles.public("GET", "/lang/{code}")
def set_lang(code: str, request: Request):
    resp = RedirectResponse(local_path(request.headers.get("referer")), status_code=303)
    resp.set_cookie("lang", "en" if code == "en" else "zh", samesite="lax", max_age=365 * 86400)
    return resp


def local_path(url: str | None) -> str:
    """The path (and query) of ``url`` on this site, whatever site it named: never a redirect elsewhere.
    A path that a browser would read as another host (``//x``, ``/\\x``) becomes ``/``."""
    try:
        parts = urlsplit(url or "")
    except ValueError:  # "http://[oops": not a URL at all
        return "/"
    path = parts.path
    if not path.startswith("/") or path.startswith(("//", "/\\")) or "\\" in path or any(ord(c) < 32 for c in path):
        return "/"
    return path + (f"?{parts.query}" if parts.query else "")


@roles.public("GET", "/login", response_class=HTMLResponse)
def login_form(request: Request):
    token = request.cookies.get(PRE_CSRF_COOKIE) or secrets.token_urlsafe(32)
    request.cookies[PRE_CSRF_COOKIE] = token
    resp = page(request, None, "login.html")
    resp.set_cookie(PRE_CSRF_COOKIE, token, httponly=True, samesite="strict",
                    secure=request.app.state.settings.secure_cookies)
    return resp


@roles.public("POST", "/login")
async def login(request: Request, db: Session = Depends(get_db)):
    state = request.app.state
    if not request.cookies.get(PRE_CSRF_COOKIE):  # no token to match: refused before the body is read
        raise HTTPException(403, "missing or wrong CSRF token")
    form = await request.form()
    if not same_token(form.get("csrf"), request.cookies.get(PRE_CSRF_COOKIE)):
        raise HTTPException(403, "missing or wrong CSRF token")
    username, password = str(form.get("username", "")).strip(), str(form.get("password", ""))
    address = client_address(request)
    peer = address or "-"  # the limiter's key
    if state.limiter.blocked(username, peer):
        await run_in_threadpool(login_failed, db, username, address, "rate_limited")
        return page(request, None, "login.html", error="too_many", status_code=429)
    user = await run_in_threadpool(users.user_by_name, db, username)
    # Verify against a dummy hash for unknown users too, so the answer takes as long either way
    # (no user enumeration by timing).
    stored = user.password_hash if user is not None else DUMMY_HASH
    verified = await run_in_threadpool(verify_password, stored, password)
    if not (verified and user is not None and user.active):
        state.limiter.failed(username, peer)
        reason = "unknown_user" if user is None else "bad_password" if not verified else "inactive"
        await run_in_threadpool(login_failed, db, username, address, reason)  # same write either way: no timing tell
        return page(request, None, "login.html", error="bad_login", status_code=401)
    state.limiter.succeeded(username, peer)
    cookie, _ = await run_in_threadpool(logged_in, db, state.sessions, user, address)
    resp = RedirectResponse("/", status_code=303)
    resp.set_cookie(SESSION_COOKIE, cookie, httponly=True, samesite="lax", secure=state.settings.secure_cookies)
    return resp


# Logins are audited here, the one place they happen; every other action in its workflow function.
def login_failed(db: Session, username: str, address: str | None, reason: str) -> None:
    # no user id: nobody was authenticated; username is the name that was tried
    audit.record(db, "login_failed", username=username, address=address, reason=reason)
    db.commit()


def logged_in(db: Session, sessions, user: User, address: str | None):
    audit.record(db, "login", user=user, address=address)
    return sessions.start(db, user)  # its commit writes the audit entry with the new session


@roles.route("POST", "/logout", ANY)
def logout(request, auth):
    users.end_session(auth.db, auth.session, address=auth.address)
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(SESSION_COOKIE)
    return resp


@roles.route("GET", "/api/me", ANY, api=True)
def me(request, auth):
    return {"username": auth.user.username, "role": auth.user.role, "qualified": auth.user.qualified,
            "qualified_label": auth.user.qualified_label, "csrf": auth.session.csrf}


@roles.route("GET", "/", ANY)
def home(request, auth):
    start = {"admin": "/dashboard", "senior": "/adjudicate", "reviewer": "/review", "redteamer": "/redteam",
             "annotator": "/annotate" if auth.user.qualified or auth.user.qualified_label else "/test"}[auth.user.role]
    return RedirectResponse(start, status_code=303)
