"""Who the client is, and which names the app answers to.

- X-Forwarded-For / -Proto are believed only from the proxies in ``ServerSettings.forwarded_allow_ips``
  (``--forwarded-allow-ips``). uvicorn's own proxy-header middleware does the work; by default it
  trusts 127.0.0.1, so on one machine anyone could name any address and dodge the login limit or
  fake the audit trail's. :func:`uvicorn_options` is what ``celm serve`` (and the tests) run uvicorn with.
- The Host header must be one of ``ServerSettings.allowed_hosts`` (``--allowed-host``), so a page of
  another site cannot reach the app through a name of its own (DNS rebinding)."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.responses import PlainTextResponse

from celm.server.settings import ServerSettings

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def uvicorn_options(settings: ServerSettings) -> dict:
    trusted = list(settings.forwarded_allow_ips)
    return {"proxy_headers": bool(trusted), "forwarded_allow_ips": trusted or None, "server_header": False}


def host_name(header: str) -> str | None:
    """``example.org:8000`` -> ``example.org``; ``[::1]:8000`` -> ``::1``; None when it is no host."""
    try:
        return urlsplit(f"//{header}").hostname
    except ValueError:  # a bad port or bracket
        return None


def default_hosts(listen: str) -> tuple[str, ...]:
    """The names to answer to when none are given: this machine's, and the address listened on."""
    if listen in ("0.0.0.0", "::", ""):
        return ("*",)  # every interface: the address it is reached by is not known here
    return tuple(dict.fromkeys((*LOOPBACK, listen)))


class HostCheck:
    """ASGI middleware: a request for a Host not allowed is answered 400. Hand-written rather than
    Starlette's TrustedHostMiddleware, which cuts ``[::1]:8000`` at its first colon."""

    def __init__(self, app, allowed: tuple[str, ...]):
        self.app = app
        self.any = "*" in allowed
        self.allowed = {h.lower().strip("[]") for h in allowed}

    async def __call__(self, scope, receive, send):
        if scope["type"] in ("http", "websocket") and not self.any:
            header = dict(scope["headers"]).get(b"host", b"").decode("latin-1")
            name = host_name(header)
            if name is None or name.lower() not in self.allowed:
                response = PlainTextResponse("主机名不在允许之列 / invalid host header", status_code=400)
                return await response(scope, receive, send)
        return await self.app(scope, receive, send)
