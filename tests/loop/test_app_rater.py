"""The loop's app rater against a real `celm serve` process on 127.0.0.1: the round's answers become a
rating batch; two annotators, a senior and a reviewer work over HTTP; the loop waits, then trains on
the people's ranks."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time

import httpx
import pytest

from celm.data.io import read_records
from celm.loop import load_loop_config, run_loop
from celm.loop.folder import LoopFolder
from celm.server.client import AppClient
from tests.loop.helpers import tiny_loop_yaml

pytest.importorskip("trl")
pytest.importorskip("uvicorn")
PASSWORD = "loop-test-password-7"
CELM = [sys.executable, "-m", "celm.cli.main"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def celm_serve(tmp_path):
    db = f"sqlite:///{tmp_path / 'team.db'}"
    env = {**os.environ, "CELM_PASSWORD": PASSWORD}
    for name, role in (("admin", "admin"), ("ann1", "annotator"), ("ann2", "annotator"), ("boss", "senior"),
                       ("rev", "reviewer")):
        subprocess.run(CELM + ["serve", "create-user", name, "--role", role, "--db", db], env=env, check=True,
                       capture_output=True)
    port = _free_port()
    proc = subprocess.Popen(CELM + ["serve", "--db", db, "--port", str(port), "--secret", "s3cret",
                                    "--block-size", "4", "--sample-size", "2"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/login", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"celm serve did not start:\n{proc.stdout.read()}")
        time.sleep(0.2)
    yield url, db
    proc.terminate()
    proc.wait(timeout=20)


def _answer_key(db: str) -> dict[int, int]:
    from sqlalchemy import create_engine, select
    from sqlalchemy.orm import Session

    from celm.server.models import TestQuestion

    engine = create_engine(db)
    with Session(engine) as s:
        key = {q.id: q.score for q in s.scalars(select(TestQuestion))}
    engine.dispose()
    return key


def _score(annotator: str, external_id: str) -> int:
    """Distinct ranks per answer variant (so pairs exist); the annotators disagree on the d0 answers."""
    variant = external_id.rsplit("~", 1)[1]
    base = {"s0": 1, "s1": 3, "d0": 0}[variant]
    return 5 if variant == "d0" and annotator == "ann2" else base


def _team_works(url: str, db: str, stop: threading.Event) -> dict:
    """Two annotators, the senior and the reviewer, each over HTTP, until the loop has what it needs."""
    key = _answer_key(db)
    seen = {"rated": 0, "adjudicated": {}, "reviewed": 0}
    annotators = []
    for name in ("ann1", "ann2"):
        ann = AppClient(url).login(name, PASSWORD)
        assert ann.take_test({q["id"]: key[q["id"]] for q in ann.test_questions()})["passed"]
        annotators.append((name, ann))
    senior, reviewer = AppClient(url).login("boss", PASSWORD), AppClient(url).login("rev", PASSWORD)
    while not stop.is_set():
        for name, ann in annotators:
            while (item := ann.next_item()) is not None:
                ann.rate(item["id"], score=_score(name, item["external_id"]))
                seen["rated"] += 1
        for item in senior.adjudication_queue():
            senior.adjudicate(item["id"], score=2)  # the senior's own call: neither annotator's
            seen["adjudicated"][item["external_id"]] = 2
        for block in reviewer.review_queue():
            reviewer.review(block["id"], {s["id"]: True for s in block["sample"]})
            seen["reviewed"] += 1
        time.sleep(0.1)
    return seen


@pytest.mark.slow
@pytest.mark.parametrize("via", ["http", "database"])
def test_people_rate_a_round_in_celm_serve(tmp_path, tiny_model_dir, celm_serve, monkeypatch, via):
    """The loop reaches the app over HTTP, or through its database while the team works over HTTP."""
    url, db = celm_serve
    monkeypatch.setenv("CELM_APP_PASSWORD", PASSWORD)
    target = url if via == "http" else db
    cfg = load_loop_config(tiny_loop_yaml(tmp_path, tiny_model_dir, rounds=1, per_round=2,
                                          rater={"spec": f"app:{target}", "poll_s": 0.2, "timeout_s": 300}))
    out = tmp_path / "loop"
    stop, team = threading.Event(), {}
    worker = threading.Thread(target=lambda: team.update(_team_works(url, db, stop)), daemon=True)
    worker.start()
    try:
        result = run_loop(cfg, out, progress=False, log=lambda *_: None)
    finally:
        stop.set()
        worker.join(timeout=30)

    rf = LoopFolder(out).round(1)
    steps = rf.steps()
    assert steps["ratings"]["rater_kind"] == "human" and steps["ratings"]["rater"] == f"app:{target}"
    assert team["rated"] == 12 and len(team["adjudicated"]) == 2 and team["reviewed"] >= 1
    ratings = read_records(rf.ratings_jsonl, "rating")
    final = {r.item_id: r.score for r in ratings if r.role == "final"}
    answers = {a.id for a in read_records(rf.responses_jsonl, "response")}
    assert set(final) == answers
    for answer_id, score in final.items():
        variant = answer_id.rsplit("~", 1)[1]
        # agreeing annotators keep the more critical score; a disagreement takes the senior's
        assert score == (2 if variant == "d0" else max(_score("ann1", answer_id), _score("ann2", answer_id)))
    assert {r.annotator for r in ratings if r.role == "annotator"} == {"ann1", "ann2"}
    assert sum(r.role == "senior" for r in ratings) == 2
    agreement = steps["ratings"]["agreement"]
    assert agreement["n"] == 6 and agreement["raw_agreement"] == pytest.approx(4 / 6)
    # the people's ranks made the pairs: s0 (1) over d0 (2) over s1 (3), per instruction
    pairs = read_records(rf.pairs_jsonl, "preference_pair")
    assert steps["pairs"]["pairs"] == len(pairs) == 6 and steps["pairs"]["ties"] == 0
    assert all(p.provenance.method == "human-ranked" for p in pairs)
    assert steps["dpo"]["loss_first"] is not None
    assert result.rounds[1]["rater_kind"] == "human"
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "people (annotation app)" in md and "Annotator agreement" in md

    # the batch on the server is the loop's, accepted, and a second run asks nobody again
    admin = AppClient(url).login("admin", PASSWORD)
    batch = admin.batch(steps["ratings"]["details"]["batch_id"])
    assert batch["accepted"] and batch["items"] == 6
    before = len(admin.batches())
    run_loop(cfg, out, progress=False, log=lambda *_: None)
    assert len(admin.batches()) == before
