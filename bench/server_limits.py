"""Benchmark: what the request limits cost the annotation app (issue: the app, safe under attack).

The limits are two ASGI middlewares in front of every request: the request-size limit
(``celm.server.limits.BodyLimit``: reads Content-Length, counts a chunked body as it arrives) and the
Host check (``celm.server.proxy.HostCheck``). The baseline is the same app, same database and same
process with those two taken out, so the difference is theirs alone. The two apps are timed in
alternating rounds (A, B, A, B, ...), so a change of load on the machine falls on both; each figure
is the median of the rounds' mean time per request, with the rounds' spread (interquartile range).

Requests, in process (Starlette's test client, no sockets): ``GET /healthz`` (nearly nothing but the
middlewares), ``GET /api/next`` by a logged-in annotator (a session check and a database read: the
first half of every rating in ``bench/server_load.py``), and ``POST /api/ratings`` with a 2 KiB JSON
body and a wrong CSRF token (answered 403 before the body is read, the limit's own path). Last, the
two middlewares alone around an app that answers at once, which gives their own cost per request
free of the test client's and the database's noise.

Run: .venv/bin/python bench/server_limits.py [--rounds 20] [--per-round 40]
The last line is the headline figure.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path


PASSWORD = "a long bench password 长口令"


def _app(folder: Path, limits: bool):
    from celm.data.records import Response
    from celm.server import ServerSettings, create_app
    from celm.server.batches import import_batch
    from celm.server.limits import BodyLimit
    from celm.server.proxy import HostCheck
    from celm.server.users import create_user

    app = create_app(ServerSettings(db_url=f"sqlite:///{folder / 'bench.db'}", secret_key="bench",
                                    allowed_hosts=("testserver",)))
    if not limits:  # before the first request, while Starlette has not built the middleware stack
        app.user_middleware = [m for m in app.user_middleware if m.cls not in (BodyLimit, HostCheck)]
    with app.state.maker() as s:
        user = create_user(s, "ann", PASSWORD, "annotator")
        user.qualified = user.qualified_label = True
        s.commit()
        import_batch(s, "bench", [Response(id=f"r{k}", item_id=f"i{k}", prompt=f"问题{k}", response=f"回答{k}", model="m")
                                  for k in range(10)])
    return app


def _client(app):
    import re

    from fastapi.testclient import TestClient

    client = TestClient(app)
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text).group(1)
    r = client.post("/login", data={"username": "ann", "password": PASSWORD, "csrf": token}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return client


REQUESTS = {
    "GET /healthz": lambda c: c.get("/healthz"),
    "GET /api/next": lambda c: c.get("/api/next"),
    "POST /api/ratings (403)": lambda c: c.post("/api/ratings", content=b'{"item_id": 1, "comment": "' + b"x" * 2048 + b'"}',
                                                headers={"content-type": "application/json", "x-csrf-token": "wrong"}),
}
EXPECTED = {"GET /healthz": 200, "GET /api/next": 200, "POST /api/ratings (403)": 403}


def _bare_round(limits: bool, n: int) -> float:
    """The two middlewares alone around an app that answers at once: their own cost per request, free
    of the test client's and the database's (a POST with a 2 KiB body, read to the end)."""
    import asyncio

    from celm.server import ServerSettings
    from celm.server.limits import BodyLimit
    from celm.server.proxy import HostCheck

    async def inner(scope, receive, send):
        while (await receive()).get("more_body"):
            pass
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    app = HostCheck(BodyLimit(inner, settings=ServerSettings()), allowed=("testserver",)) if limits else inner
    scope = {"type": "http", "method": "POST", "path": "/api/ratings", "headers": [
        (b"host", b"testserver"), (b"content-type", b"application/json"), (b"content-length", b"2048")]}
    body = {"type": "http.request", "body": b"x" * 2048, "more_body": False}

    async def receive():
        return body

    async def send(message):
        pass

    async def run():
        t0 = time.perf_counter()
        for _ in range(n):
            await app(scope, receive, send)
        return (time.perf_counter() - t0) / n

    return asyncio.run(run())


def _round(client, request, n: int, expected: int) -> float:
    t0 = time.perf_counter()
    for _ in range(n):
        r = request(client)
    seconds = (time.perf_counter() - t0) / n
    assert r.status_code == expected, (r.status_code, r.text[:200])
    return seconds


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--per-round", type=int, default=40)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "with").mkdir()
        (Path(tmp) / "without").mkdir()
        clients = {"with limits": _client(_app(Path(tmp) / "with", True)),
                   "without": _client(_app(Path(tmp) / "without", False))}
        for client in clients.values():  # warm-up: templates, the first queries
            for name, request in REQUESTS.items():
                _round(client, request, 5, EXPECTED[name])
        times = {(name, side): [] for name in (*REQUESTS, "middlewares alone") for side in clients}
        for k in range(args.rounds):
            order = list(clients) if k % 2 == 0 else list(reversed(clients))
            for name, request in REQUESTS.items():
                for side in order:
                    times[name, side].append(_round(clients[side], request, args.per_round, EXPECTED[name]))
        for k in range(args.rounds):
            for side in (["with limits", "without"] if k % 2 == 0 else ["without", "with limits"]):
                times["middlewares alone", side].append(_bare_round(side == "with limits", 2000))
    deltas = []
    print(f"{'request':<26} {'with limits':>18} {'without':>18} {'difference':>12}")
    for name in (*REQUESTS, "middlewares alone"):
        med = {side: statistics.median(times[name, side]) * 1e6 for side in clients}
        iqr = {side: _iqr(times[name, side]) * 1e6 for side in clients}
        diff = med["with limits"] - med["without"]
        deltas.append((name, diff, med["without"], iqr["with limits"] + iqr["without"]))
        print(f"{name:<26} {med['with limits']:>9.0f} ±{iqr['with limits']:>4.0f} µs {med['without']:>9.0f} ±{iqr['without']:>4.0f} µs"
              f" {diff:>+9.0f} µs")
    within = all(abs(diff) <= spread for _name, diff, _base, spread in deltas[:-1])
    alone = deltas[-1][1]
    print(f"{args.rounds} alternating rounds x {args.per_round} requests, in process: the two limit middlewares cost "
          f"{alone:+.0f} µs a request alone; whole requests differ by "
          + ", ".join(f"{name} {diff:+.0f} µs" for name, diff, _b, _s in deltas[:-1])
          + (", each within the rounds' spread (not measurable)" if within else " (outside the rounds' spread)"))


def _iqr(xs: list[float]) -> float:
    q = statistics.quantiles(xs, n=4)
    return (q[2] - q[0]) / 2


if __name__ == "__main__":
    main()
