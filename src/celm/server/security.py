"""Passwords (argon2), sessions (random token in a signed, HttpOnly cookie, stored server-side as
its SHA-256 only, expiring when idle and after an absolute lifetime), CSRF tokens on every
state-changing request, and a login rate limit."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import defaultdict, deque
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, Signer
from sqlalchemy.orm import Session

from celm.server.models import User, WebSession, now

SESSION_COOKIE = "celm_session"
PRE_CSRF_COOKIE = "celm_csrf"  # double-submit token for forms shown before login
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


#: verified against when the user does not exist, so unknown and known users cost the same argon2 work
DUMMY_HASH = _hasher.hash("celm-no-such-user")


def security_headers(nonce: str) -> dict[str, str]:
    """Headers on every response: a CSP that allows only the app's own styles (by nonce), scripts
    only from the app's own static files (the annotate page's keys; never inline), no framing; no
    MIME sniffing; no referrer to other sites."""
    csp = (f"default-src 'none'; style-src 'nonce-{nonce}'; script-src 'self'; img-src 'self' data:; form-action 'self'; "
           "frame-ancestors 'none'; base-uri 'none'")
    return {"Content-Security-Policy": csp, "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin"}


def harden(response, nonce: str):
    """The security headers on ``response``, and no caching: pages and exports hold what only a logged-in
    user may see (a route that may be cached, static files, sets its own Cache-Control)."""
    response.headers.update(security_headers(nonce))
    response.headers.setdefault("cache-control", "no-store")
    return response


def verify_password(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def token_digest(token: str) -> str:
    """What the sessions table holds for a token: a stolen database or backup opens no session."""
    return hashlib.sha256(token.encode()).hexdigest()


class Sessions:
    def __init__(self, secret: str, ttl_s: int, max_s: int):
        self.signer = Signer(secret, salt="celm-session")
        self.ttl = timedelta(seconds=ttl_s)
        self.max_age = timedelta(seconds=max_s)

    def start(self, s: Session, user: User) -> tuple[str, WebSession]:
        token = secrets.token_urlsafe(32)
        t = now()
        ws = WebSession(token=token_digest(token), user_id=user.id, csrf=secrets.token_urlsafe(32), last_seen=t, created_at=t)
        s.add(ws)
        s.commit()
        return self.signer.sign(token).decode(), ws

    def load(self, s: Session, cookie: str | None) -> tuple[User, WebSession] | None:
        if not cookie:
            return None
        try:
            token = self.signer.unsign(cookie).decode()
        except BadSignature:
            return None
        ws = s.get(WebSession, token_digest(token))
        if ws is None:
            return None
        t = now()
        if t - ws.last_seen > self.ttl or t - (ws.created_at or ws.last_seen) > self.max_age:
            s.delete(ws)
            s.commit()
            return None
        if (t - ws.last_seen).total_seconds() > 60:  # touch at most once a minute: fewer writes under load
            ws.last_seen = t
            s.commit()
        user = s.get(User, ws.user_id)
        return (user, ws) if user is not None and user.active else None

    def end(self, s: Session, cookie: str | None) -> None:
        found = self.load(s, cookie)
        if found:
            s.delete(found[1])
            s.commit()


class LoginLimiter:
    """Refuses logins for a (user, address) after ``attempts`` failures within ``window_s`` seconds.

    In memory, per process: enough for one server; behind several workers put the limit in the proxy."""

    def __init__(self, attempts: int, window_s: int):
        self.attempts, self.window = attempts, window_s
        self.failures: dict[tuple[str, str], deque] = defaultdict(deque)
        self.lock = threading.Lock()

    def _trim(self, key) -> deque:
        q = self.failures[key]
        while q and time.monotonic() - q[0] > self.window:
            q.popleft()
        return q

    def blocked(self, username: str, address: str) -> bool:
        with self.lock:
            return len(self._trim((username, address))) >= self.attempts

    def failed(self, username: str, address: str) -> None:
        with self.lock:
            self._trim((username, address)).append(time.monotonic())

    def succeeded(self, username: str, address: str) -> None:
        with self.lock:
            self.failures.pop((username, address), None)


def same_token(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and secrets.compare_digest(str(a), str(b))
