"""People as the rater: the round's answers become a 0–6 rating batch in ``celm serve``.

``app:http://HOST:PORT`` talks to a running server over HTTP as an admin (``AppClient``);
``app:sqlite:///annotations.db`` (or any SQLAlchemy URL) works on the app's database directly, for a
loop that runs beside the server. Either way the loop:

1. imports the answers (ids prefixed with the loop's token and the round, so two loops on one server
   never collide; a re-import after a kill is skipped by the app and the batch found by its name);
2. waits until every answer is rated by two annotators (disagreements settled by the senior), sends
   the last partial block to review, and waits until the reviewer has accepted every block (a
   rejected block goes back to the annotators, and the loop keeps waiting);
3. takes the app's ``final`` export (one decided rank per answer) and every rating, and computes the
   annotators' agreement the way the app's dashboard does.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from celm.data.io import read_records, write_json, write_records
from celm.data.records import Rating, Response
from celm.loop.raters.base import Rater, RatingOutcome
from celm.models.registry import nested_target


class AppRater(Rater):
    kind = "human"

    def __init__(self, settings):
        super().__init__(settings)
        self.target = nested_target(self.spec)
        if not self.target:
            raise ValueError("app: needs the server's URL (app:http://127.0.0.1:8000) or its database URL")

    def _connect(self):
        password = os.environ.get(self.settings.password_env)
        if self.target.startswith(("http://", "https://")):
            if not password:
                raise ValueError(f"the app rater logs in as {self.settings.username!r}: set ${self.settings.password_env}")
            from celm.server.client import AppClient

            return AppClient(self.target).login(self.settings.username, password)
        return DatabaseApp(self.target, self.settings.username)

    def rate(self, responses: list[Response], round_folder, *, log: Callable[[str], None] = print) -> RatingOutcome:
        token = hashlib.sha256(str(round_folder.path.resolve().parent).encode()).hexdigest()[:8]
        prefix = f"loop-{token}/r{round_folder.number}/"
        name = f"celm loop {token} round {round_folder.number}"
        app = self._connect()
        try:
            batch_id = self._batch(app, responses, round_folder, prefix, name, log)
            self._wait(app, batch_id, log)
            final = _records(app.export(batch_id, "final"))
            every = _records(app.export(batch_id, "ratings"))
        finally:
            app.close()
        ours = {prefix + r.id: r.id for r in responses}
        ratings = [r.model_copy(update={"item_id": ours[r.item_id]}) for r in every + final if r.item_id in ours]
        missing = set(ours.values()) - {r.item_id for r in ratings if r.role == "final"}
        if missing:
            raise RuntimeError(f"the app's batch {batch_id} has no final rank for {len(missing)} answer(s), e.g. {sorted(missing)[0]}")
        return RatingOutcome(ratings=ratings, agreement=agreement(every),
                             details={"batch_id": batch_id, "server": self.target,
                                      "adjudicated": sum(r.role == "senior" for r in every)})

    def _batch(self, app, responses, round_folder, prefix: str, name: str, log) -> int:
        state = round_folder.app_batch_json
        if state.exists():
            import json

            return int(json.loads(state.read_text(encoding="utf-8"))["batch_id"])
        with tempfile.TemporaryDirectory() as tmp:
            upload = write_records(Path(tmp) / f"round-{round_folder.number}.jsonl",
                                   [r.model_copy(update={"id": prefix + r.id}) for r in responses])
            result = app.import_batch(upload, name=name, task="rating")
        batch_id = result.get("batch_id")
        if batch_id is None:  # imported before a kill, its id not yet saved: the app skipped every row
            batch_id = next((b["id"] for b in app.batches() if b["name"] == name), None)
            if batch_id is None:
                raise RuntimeError(f"the app skipped every answer of {name!r} but has no batch of that name")
        write_json(state, {"batch_id": batch_id, "server": self.target, "name": name})
        log(f"rater: {len(responses)} answers are batch {batch_id} ({name!r}) in the app; waiting for the raters")
        return int(batch_id)

    def _wait(self, app, batch_id: int, log) -> None:
        start, last = time.monotonic(), None
        while True:
            b = app.batch(batch_id)
            counts = b.get("status", {})
            if b.get("accepted"):
                log(f"rater: batch {batch_id} rated, adjudicated and accepted")
                return
            if counts.get("done", 0) == b["items"] and b.get("unreviewed", 0) > 0:
                app.close_batch(batch_id)  # the last, partial block goes to the reviewer
                continue
            seen = (tuple(sorted(counts.items())), tuple(sorted(b.get("review", {}).items())))
            if seen != last:
                log(f"rater: batch {batch_id}: items {dict(counts)}, review blocks {b.get('review', {})}")
                last = seen
            if self.settings.timeout_s and time.monotonic() - start > self.settings.timeout_s:
                raise TimeoutError(f"batch {batch_id} is not accepted after {self.settings.timeout_s:.0f} s; "
                                   "run the loop again later to keep waiting (nothing is lost)")
            time.sleep(self.settings.poll_s)


def _records(body: bytes) -> list[Rating]:
    if not body.strip():
        return []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.jsonl"
        path.write_bytes(body)
        return read_records(path, "rating")


def agreement(ratings: list[Rating]) -> dict:
    """The app's statistics over the first two annotator ratings of each answer in each round."""
    from celm.server.agreement import agreement_stats

    by_round: dict[tuple, list[Rating]] = defaultdict(list)
    for r in ratings:
        if r.role == "annotator" and r.score is not None:
            by_round[(r.item_id, r.provenance.details.get("round"))].append(r)
    pairs = [("rating", rs[0], rs[1]) for rs in by_round.values() if len(rs) >= 2]
    return agreement_stats(pairs)


class DatabaseApp:
    """The few admin operations the loop needs, on the app's database instead of over HTTP."""

    def __init__(self, db_url: str, username: str):
        from sqlalchemy import select
        from sqlalchemy.orm import sessionmaker

        from celm.server.db import make_engine
        from celm.server.models import User

        self.engine = make_engine(db_url)
        self.session = sessionmaker(self.engine, expire_on_commit=False)()
        self.user = self.session.scalar(select(User).where(User.username == username))
        if self.user is None or self.user.role != "admin":
            raise ValueError(f"{db_url}: no admin account {username!r}")

    def import_batch(self, path: Path, *, name: str, task: str) -> dict:
        from celm.server.io import import_upload

        result = import_upload(self.session, Path(path).name, Path(path).read_bytes(), name=name, task=task, by=self.user)
        return {"batch_id": result.batch.id if result.batch else None}

    def batches(self) -> list[dict]:
        from celm.server.batches import batch_summaries

        self.session.expire_all()
        return batch_summaries(self.session)

    def batch(self, batch_id: int) -> dict:
        return next(b for b in self.batches() if b["id"] == batch_id)

    def close_batch(self, batch_id: int) -> None:
        from celm.server.settings import ServerSettings
        from celm.server.review import close_batch

        close_batch(self.session, self.user, batch_id, ServerSettings())

    def export(self, batch_id: int, kind: str) -> bytes:
        from celm.server.io import export_batch

        return export_batch(self.session, batch_id, kind, by=self.user)[0]

    def close(self) -> None:
        self.session.close()
        self.engine.dispose()
