"""Load testing the annotation app: simulated annotators over HTTP, then an audit of the database.

Used by ``bench/server_load.py`` and the tests; point it at your own deployment the same way::

    seed(url, annotators=50, items=10_000)          # 50 qualified annotators, 10,000 items
    result = asyncio.run(simulate("http://127.0.0.1:8000", users, total=20_000))
    audit(url, result)                             # zero lost or duplicated ratings

``start_postgres`` runs a throw-away PostgreSQL server (Debian's ``postgresql`` package) for tests.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

PASSWORD = "load-test-password"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seed(db_url: str, *, annotators: int, items: int) -> list[str]:
    """Qualified annotators ``load-ann-N`` and one batch of ``items`` items (each needs two ratings)."""
    from celm.server.db import make_engine, make_sessionmaker, migrate
    from celm.server.security import hash_password
    from celm.server.models import User
    from celm.server.batches import import_batch

    migrate(db_url)
    engine = make_engine(db_url)
    names = [f"load-ann-{k}" for k in range(annotators)]
    with make_sessionmaker(engine)() as s:
        digest = hash_password(PASSWORD)  # one hash for all: seeding 50 users need not cost 50 argon2 runs
        s.add_all(User(username=n, password_hash=digest, role="annotator", qualified=True, qualified_label=True) for n in names)
        s.commit()
        rows = [{"external_id": f"load-{k}", "instruction": f"压力测试问题 {k}", "response": f"压力测试回答 {k}"} for k in range(items)]
        import_batch(s, "load", rows=rows)
    engine.dispose()
    return names


@dataclass
class LoadResult:
    acknowledged: dict[int, tuple[int, str]] = field(default_factory=dict)  # rating id -> (item id, user)
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0

    def p(self, q: float) -> float:
        xs = sorted(self.latencies)
        return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float("nan")


async def _annotator(base: str, username: str, result: LoadResult, budget: list[int], stop: asyncio.Event) -> None:
    import httpx

    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        page = await client.get("/login")
        token = _CSRF.search(page.text).group(1)
        await client.post("/login", data={"username": username, "password": PASSWORD, "csrf": token})
        csrf = (await client.get("/api/me")).json()["csrf"]
        while not stop.is_set() and budget[0] > 0:
            try:
                item = (await client.post("/api/next", headers={"X-CSRF-Token": csrf})).json()["item"]
                if item is None:
                    return
                budget[0] -= 1
                t0 = time.perf_counter()
                r = await client.post("/api/ratings", json={"item_id": item["id"], "score": hash(username + str(item["id"])) % 7},
                                      headers={"X-CSRF-Token": csrf})
                result.latencies.append(time.perf_counter() - t0)
                if r.status_code == 200:
                    result.acknowledged[r.json()["rating_id"]] = (item["id"], username)
                else:
                    result.errors += 1
            except (httpx.HTTPError, ValueError, KeyError):
                result.errors += 1
                if stop.is_set():
                    return
                await asyncio.sleep(0.2)


async def simulate(base: str, usernames: list[str], *, total: int, stop_after_s: float | None = None) -> LoadResult:
    """All annotators at once until ``total`` ratings are submitted (or ``stop_after_s`` passes)."""
    result, budget, stop = LoadResult(), [total], asyncio.Event()
    t0 = time.perf_counter()
    tasks = [asyncio.create_task(_annotator(base, u, result, budget, stop)) for u in usernames]
    if stop_after_s is not None:
        await asyncio.sleep(stop_after_s)
        stop.set()
    await asyncio.gather(*tasks)
    result.seconds = time.perf_counter() - t0
    return result


def audit(db_url: str, result: LoadResult) -> dict:
    """Every acknowledged rating is stored; no item has more than two annotator ratings a round."""
    from sqlalchemy import func, select

    from celm.server.db import make_engine, make_sessionmaker
    from celm.server.models import RatingRow

    engine = make_engine(db_url)
    with make_sessionmaker(engine)() as s:
        stored = set(s.scalars(select(RatingRow.id).where(RatingRow.role == "annotator")))
        per_item = s.execute(select(RatingRow.item_id, RatingRow.round, func.count()).where(RatingRow.role == "annotator")
                             .group_by(RatingRow.item_id, RatingRow.round)).all()
        dup = s.execute(select(RatingRow.item_id, RatingRow.user_id, RatingRow.round, func.count())
                        .where(RatingRow.role == "annotator")
                        .group_by(RatingRow.item_id, RatingRow.user_id, RatingRow.round).having(func.count() > 1)).all()
    engine.dispose()
    lost = [rid for rid in result.acknowledged if rid not in stored]
    return {"stored": len(stored), "acknowledged": len(result.acknowledged), "lost": len(lost),
            "duplicated": len(dup), "over_assigned": sum(1 for _, _, n in per_item if n > 2)}


class ServerProcess:
    """``celm serve`` in a child process (so it can be killed with SIGKILL)."""

    def __init__(self, db_url: str, port: int | None = None, workers: int = 2):
        self.db_url, self.port, self.workers = db_url, port or free_port(), workers
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> "ServerProcess":
        import httpx

        env = {**os.environ, "CELM_SECRET": "load-test-secret", "NO_COLOR": "1"}
        self.proc = subprocess.Popen([sys.executable, "-m", "celm.cli.main", "serve", "--db", self.db_url, "--port", str(self.port),
                                      "--workers", str(self.workers)],
                                     env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError("the server did not start")

    def kill(self) -> None:
        """SIGKILL to the server and all its worker processes at once (no chance to flush anything)."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


def _pg_bin(name: str) -> str:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    if found:
        return str(found[-1])
    path = shutil.which(name)
    if path is None:
        raise FileNotFoundError(f"{name} not found: install PostgreSQL (apt install postgresql)")
    return path


class Postgres:
    """A throw-away PostgreSQL cluster on 127.0.0.1 (as user ``postgres`` when run by root, which
    PostgreSQL refuses to run as)."""

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="celm-pg-"))
        self.port = free_port()
        self.as_root = os.geteuid() == 0

    def _run(self, *cmd: str) -> None:
        full = ["runuser", "-u", "postgres", "--", *cmd] if self.as_root else list(cmd)
        subprocess.run(full, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/celm"

    def start(self) -> "Postgres":
        data = self.dir / "data"
        if self.as_root:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run(_pg_bin("initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8")
        self._run(_pg_bin("pg_ctl"), "-D", str(data), "-w", "-l", str(self.dir / "log"), "-o",
                  f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c max_connections=200", "start")
        self._run(_pg_bin("createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "celm")
        return self

    def stop(self) -> None:
        try:
            self._run(_pg_bin("pg_ctl"), "-D", str(self.dir / "data"), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


def run_scenario(db_url: str, *, annotators: int = 50, ratings: int = 20_000, kill: bool = True, workers: int = 2,
                 log=print) -> dict:
    """Seed, load, (kill -9 mid-load, restart, finish), audit. Returns the figures."""
    names = seed(db_url, annotators=annotators, items=ratings // 2)
    server = ServerProcess(db_url, workers=workers).start()
    try:
        first = LoadResult()
        if kill:
            first = asyncio.run(_with_kill(server, names, ratings))
            log(f"  killed with SIGKILL after {len(first.acknowledged)} acknowledged ratings; restarted")
        rest = asyncio.run(simulate(server.url, names, total=ratings - len(first.acknowledged)))
    finally:
        server.stop()
    merged = LoadResult({**first.acknowledged, **rest.acknowledged}, first.latencies + rest.latencies,
                        first.errors + rest.errors, first.seconds + rest.seconds)
    figures = audit(db_url, merged)
    acked_before_kill = audit(db_url, first)["lost"] if kill else 0
    figures.update(p50_ms=merged.p(0.5) * 1000, p95_ms=merged.p(0.95) * 1000, seconds=merged.seconds,
                   ratings_per_s=len(merged.acknowledged) / merged.seconds if merged.seconds else 0.0,
                   lost_across_kill=acked_before_kill, errors=merged.errors)
    return figures


async def _with_kill(server: ServerProcess, names: list[str], ratings: int) -> LoadResult:
    async def killer():
        while len(result_holder) == 0 or len(result_holder[0].acknowledged) < ratings // 4:
            await asyncio.sleep(0.05)
        server.kill()
        server.start()

    result_holder: list[LoadResult] = []
    result, budget, stop = LoadResult(), [ratings], asyncio.Event()
    result_holder.append(result)
    tasks = [asyncio.create_task(_annotator(server.url, u, result, budget, stop)) for u in names]
    await killer()
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    return result
