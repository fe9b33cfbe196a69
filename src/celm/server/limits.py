"""Size limits: how large a request body each route takes, and how long an imported text may be.

A request whose Content-Length is over its route's limit is answered 413 before a byte of it is read;
a body sent without a length (chunked) is counted as it is read and cut off at the limit, so nobody,
logged in or not, can make the app parse or spool more than the route needs. The limits (one table,
:func:`body_limit`): the login form 16 KiB, every other form or JSON body 1 MiB, uploads (an import,
the competence test's questions) ``ServerSettings.max_upload_bytes``."""

from __future__ import annotations

import json

from fastapi import HTTPException

from celm.data.errors import Issue
from celm.server.settings import ServerSettings

LOGIN_BODY = 16 * 1024  # a user name, a password and a token
FORM_BODY = 1024 * 1024  # the largest form or JSON body but an upload (a comment, a red-team prompt)
#: the routes that take a file; their limit is ``max_upload_bytes``
UPLOAD_ROUTES = frozenset({("POST", "/admin/import"), ("POST", "/admin/test")})
#: imported fields that are names, not texts: held to this many characters
SHORT_FIELDS = ("external_id", "model", "scenario")
SHORT_CHARS = 512


def body_limit(method: str, path: str, settings: ServerSettings) -> int:
    if (method, path) in UPLOAD_ROUTES:
        return settings.max_upload_bytes
    return LOGIN_BODY if path == "/login" else FORM_BODY


def too_large(limit: int) -> str:
    return f"请求太大：上限 {limit:,} 字节 / request too large: the limit is {limit:,} bytes"


class BodyLimit:
    """ASGI middleware enforcing :func:`body_limit` (pure ASGI, so the body is never buffered here)."""

    def __init__(self, app, settings: ServerSettings):
        self.app, self.settings = app, settings

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            return await self.app(scope, receive, send)
        limit = body_limit(scope["method"], scope["path"], self.settings)
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length", b"").decode("latin-1")
        if declared and (not declared.isdigit() or int(declared) > limit):
            return await self._refuse(scope, send, limit, headers)
        seen = 0

        async def counted():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:  # a body with no (or a false) length: cut off here, answered by the app's handlers
                    raise HTTPException(413, too_large(limit))
            return message

        return await self.app(scope, counted, send)

    async def _refuse(self, scope, send, limit: int, headers: dict[bytes, bytes]) -> None:
        wants_json = scope["path"].startswith("/api/") or b"application/json" in headers.get(b"accept", b"")
        body = json.dumps({"detail": too_large(limit)}, ensure_ascii=False) if wants_json else too_large(limit)
        kind = b"application/json" if wants_json else b"text/plain; charset=utf-8"
        # Connection: close, as the unread body must not be taken for the next request
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", kind), (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body.encode()})


def field_issues(rows, where, settings: ServerSettings) -> list[Issue]:
    """The imported rows' fields that are too long or not text UTF-8 can store (a lone ``\\ud800``
    escape), each as ``file:line: field: reason``; ``where(k)`` gives row k's (file, line)."""
    issues = []
    for k, row in enumerate(rows):
        for field, value in row.items():
            if not isinstance(value, str):
                continue
            cap = SHORT_CHARS if field in SHORT_FIELDS else settings.max_field_chars
            if len(value) > cap:
                issues.append(Issue(*where(k), field, f"{len(value):,} characters, more than the limit of {cap:,}"))
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as exc:
                issues.append(Issue(*where(k), field, f"not valid Unicode text (a lone surrogate at character {exc.start})"))
    return issues
