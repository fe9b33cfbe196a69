"""The openai: backend against a real local HTTP server that is slow, fails and drops connections."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

pytest.importorskip("fastapi")

from celm.data.bundled import load_benchmark  # noqa: E402
from celm.data.io import read_records, write_records  # noqa: E402
from celm.models import get_model  # noqa: E402
from celm.models.mock_server import MockServer, reply_for  # noqa: E402
from celm.models.runner import generate_responses  # noqa: E402


def test_flaky_server_every_item_answered_none_twice(tmp_path):
    items = load_benchmark()[:120]
    # The server shares this process's GIL; on a loaded CI box a request can stall for seconds, so the
    # timeout is generous and the retries many: what is tested is that every item gets through.
    with MockServer(latency=0.02, fail_rate=0.25, drop_rate=0.1, seed=7) as server:
        model = get_model(f"openai:mock-model@{server.url}?timeout=30&backoff=0.02&retries=12")
        out = generate_responses(items, model, cache=tmp_path / "c.sqlite", concurrency=12, progress=False)
        stats = server.stats
    assert out.ok, [f.error for f in out.failed]
    assert len(out.responses) == len(items)
    assert [r.response for r in out.responses] == [reply_for(i.prompt) for i in items]
    assert stats.errors[429] > 0 and stats.errors[500] > 0 and stats.errors["drop"] > 0
    assert set(stats.served.values()) == {1} and len(stats.served) == len(items)
    assert all(r.prompt_tokens and r.completion_tokens for r in out.responses)


def test_non_retryable_error_and_key_never_logged(tmp_path, monkeypatch):
    monkeypatch.setenv("CELM_TEST_KEY", "sk-secret-123")
    with MockServer() as server:
        model = get_model(f"openai:m@{server.url}/nope?key_env=CELM_TEST_KEY&retries=1&backoff=0.01")
        out = generate_responses(load_benchmark()[:2], model, cache=tmp_path / "c.sqlite", progress=False)
    assert len(out.failed) == 2 and "404" in out.failed[0].error
    assert "sk-secret" not in json.dumps(model.describe()) and "sk-secret" not in out.failed[0].model_dump_json()


def test_rate_limit_spaces_requests(tmp_path):
    with MockServer() as server:
        model = get_model(f"openai:m@{server.url}?rpm=600")  # one start every 0.1 s
        t0 = time.monotonic()
        out = generate_responses(load_benchmark()[:6], model, cache=tmp_path / "c.sqlite", concurrency=6, progress=False)
    assert out.ok and time.monotonic() - t0 >= 0.45


def _acknowledged_prompts(cache_path):
    db = sqlite3.connect(cache_path)
    try:
        rows = db.execute("SELECT result FROM responses").fetchall()
    except sqlite3.OperationalError:  # the child has created the file but not yet its table
        return set()
    finally:
        db.close()
    return {json.loads(r[0])["text"].removeprefix("模拟回答：") for r in rows}


def test_kill_9_then_resume_asks_nothing_twice(tmp_path):
    items = load_benchmark()[:150]
    src = write_records(tmp_path / "items.jsonl", items)
    cache = tmp_path / "cache.sqlite"
    out = tmp_path / "responses.jsonl"
    with MockServer(latency=0.05, fail_rate=0.1, seed=3) as server:
        cmd = [sys.executable, "-m", "celm.cli.main", "generate", "-m", f"openai:m@{server.url}?backoff=0.02&retries=10",
               "-i", str(src), "-o", str(out), "--cache", str(cache), "--concurrency", "4"]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "NO_COLOR": "1"})
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if cache.exists() and len(_acknowledged_prompts(cache)) >= 30:
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        acknowledged = _acknowledged_prompts(cache)
        assert 30 <= len(acknowledged) < len(items) and not out.exists()
        before = dict(server.stats.served)
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env={**os.environ, "NO_COLOR": "1"})
        second_run = {p for p, n in server.stats.served.items() if n > before.get(p, 0)}
    assert not second_run & acknowledged, "a prompt acknowledged before the kill was asked again"
    responses = read_records(out)
    assert [r.item_id for r in responses] == [i.id for i in items]
    assert all(r.response == reply_for(i.prompt) for r, i in zip(responses, items))
