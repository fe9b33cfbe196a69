"""Generation on a real local Ray cluster (tests/scale/conftest.py): the same responses and cache as
one process, resume from the cache, a SIGKILLed worker's items retried, and `celm generate --ray`."""

from __future__ import annotations

import functools
import os
import signal
import sqlite3
import sys
import time
from collections.abc import Sequence

import pytest

from celm.data.bundled import load_benchmark
from celm.models import get_model
from celm.models.base import GenerationRequest, GenerationResult
from celm.models.echo import EchoBackend
from celm.models.runner import generate_responses


class SlowEcho(EchoBackend):
    """Echo that takes ``delay`` seconds an item, in batches of 2: slow enough to kill a worker mid-chunk."""

    batch_size = 2

    def __init__(self, delay: float = 0.0):
        super().__init__("slow-echo")
        self.delay = delay

    def generate_batch(self, requests: Sequence[GenerationRequest]) -> list[GenerationResult]:
        time.sleep(self.delay * len(requests))
        return super().generate_batch(requests)


def make_slow(delay: float = 0.0) -> SlowEcho:
    return SlowEcho(delay)


class SelfKilling(EchoBackend):
    """A backend whose process dies on every chunk (as under the kernel's OOM killer)."""

    def generate_batch(self, requests):
        os.kill(os.getpid(), signal.SIGKILL)


def make_self_killing() -> SelfKilling:
    return SelfKilling("doomed")


@pytest.fixture
def by_value(ray_cluster):
    """The workers unpickle this module's factories by value, so they need not import this test module."""
    import ray.cloudpickle

    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    return ray_cluster


def _rows(path) -> int:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]


def _same(a, b) -> bool:
    """Responses equal but for when they were made."""
    return [r.model_dump(exclude={"created_at"}) for r in a] == [r.model_dump(exclude={"created_at"}) for r in b]


def test_generation_on_ray_equals_local_and_resumes(ray_cluster, tmp_path):
    from celm.scale.generate import RayBackend

    items = load_benchmark()[:30]
    local = generate_responses(items, get_model("echo"), cache=tmp_path / "local.sqlite", with_norms=True, progress=False)
    with RayBackend("echo", address=ray_cluster, workers=2, chunk_size=4) as backend:
        assert (backend.model_id, backend.cache_identity) == ("echo", "echo")  # same cache keys as a local run
        first = generate_responses(items, backend, cache=tmp_path / "ray.sqlite", with_norms=True, progress=False)
        assert first.ok and first.generated == 30 and first.cached == 0
        assert _same(first.responses, local.responses)
        assert len(set(backend.pool.pids())) == 2  # both workers were used
        again = generate_responses(items, backend, cache=tmp_path / "ray.sqlite", with_norms=True, progress=False)
        assert again.cached == 30 and again.generated == 0 and _same(again.responses, local.responses)
    assert _rows(tmp_path / "ray.sqlite") == _rows(tmp_path / "local.sqlite") == 30
    # the cache written on Ray serves a local run: never ask twice, wherever it ran
    served = generate_responses(items, get_model("echo"), cache=tmp_path / "ray.sqlite", with_norms=True, progress=False)
    assert served.cached == 30 and served.generated == 0


def test_killed_worker_items_are_retried(by_value, tmp_path):
    from celm.scale.generate import RayBackend

    items = load_benchmark()[:16]  # 8 chunks of 2, 0.5 s each, over 2 workers
    with RayBackend(functools.partial(make_slow, 0.25), address=by_value, workers=2) as backend:
        backend.pool.ensure()
        pids = backend.pool.pids()
        killed: list[int] = []

        def kill_one(item_id, result):
            # at the first answer both workers hold unfinished chunks (one running, one queued each)
            if not killed:
                killed.append(pids[1])
                os.kill(pids[1], signal.SIGKILL)

        outcome = generate_responses(items, backend, cache=tmp_path / "cache.sqlite", progress=False, on_result=kill_one)
        assert killed and backend.pool.total_restarts == 1
        assert pids[1] not in backend.pool.pids()  # a replacement took the killed worker's slot
    assert outcome.ok and outcome.generated == 16 and all(r.response for r in outcome.responses)
    assert _rows(tmp_path / "cache.sqlite") == 16  # one row per item: nothing lost, nothing asked twice
    local = generate_responses(items, make_slow(0.0), cache=tmp_path / "local.sqlite", progress=False)
    assert _same(outcome.responses, local.responses)


def test_gives_up_after_bounded_restarts(by_value, tmp_path):
    from celm.scale.actors import WorkerLostError
    from celm.scale.generate import RayBackend

    with RayBackend(make_self_killing, address=by_value, workers=1, max_restarts=1) as backend:
        with pytest.raises(WorkerLostError, match="died 2 times.*gave up after 1"):
            generate_responses(load_benchmark()[:3], backend, cache=tmp_path / "c.sqlite", progress=False)
        assert backend.pool.total_restarts == 2


def test_a_bad_spec_fails_as_it_would_locally(ray_cluster):
    from celm.scale.generate import RayBackend

    with pytest.raises(KeyError, match="unknown model backend 'ech'"):
        RayBackend("ech", address=ray_cluster, workers=1)
    with pytest.raises(FileNotFoundError, match="script file not found"):
        RayBackend("scripted:/no/such/file.yaml", address=ray_cluster, workers=1)


def test_generate_cli_on_ray(ray_cluster, tmp_path):
    from typer.testing import CliRunner

    from celm.cli.main import app
    from celm.data.io import read_records, write_records

    write_records(tmp_path / "items.jsonl", load_benchmark()[:12])
    args = ["generate", "-m", "echo", "-i", str(tmp_path / "items.jsonl"), "--cache", str(tmp_path / "c.sqlite")]
    out = CliRunner().invoke(app, [*args, "-o", str(tmp_path / "ray.jsonl"), "--ray", ray_cluster, "--workers", "2"])
    assert out.exit_code == 0, out.output
    assert "Ray " in out.output and "12 responses" in out.output and "0 from cache, 12 generated" in out.output
    again = CliRunner().invoke(app, [*args, "-o", str(tmp_path / "local.jsonl")])  # no --ray: served from the same cache
    assert again.exit_code == 0 and "12 from cache, 0 generated" in again.output, again.output
    assert _same(read_records(tmp_path / "ray.jsonl", "response"), read_records(tmp_path / "local.jsonl", "response"))


def test_ray_flag_without_ray_says_how_to_install(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from celm.cli.main import app
    from celm.data.io import write_records

    write_records(tmp_path / "items.jsonl", load_benchmark()[:2])
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError, as without the extra
    out = CliRunner().invoke(app, ["generate", "-m", "echo", "-i", str(tmp_path / "items.jsonl"), "-o",
                                   str(tmp_path / "out.jsonl"), "--ray", "local"])
    assert out.exit_code == 2 and "pip install 'celm[scale]'" in out.output, out.output
    assert not (tmp_path / "out.jsonl").exists()


def test_workers_that_keep_dying_are_one_clear_line(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    import celm.models.runner
    from celm.cli.main import app
    from celm.data.io import write_records
    from celm.scale.actors import WorkerLostError

    def lost(*args, **kwargs):
        raise WorkerLostError("a Ray worker serving echo died 4 times [chunk 3]; gave up after 3 replacements")

    monkeypatch.setattr(celm.models.runner, "generate_responses", lost)
    write_records(tmp_path / "items.jsonl", load_benchmark()[:2])
    out = CliRunner().invoke(app, ["generate", "-m", "echo", "-i", str(tmp_path / "items.jsonl"), "-o", str(tmp_path / "o.jsonl")])
    assert out.exit_code == 1 and "error: a Ray worker serving echo died 4 times [chunk 3]" in out.output, out.output
    assert "Traceback" not in out.output


def test_remote_api_on_ray_never_asks_twice(ray_cluster, tmp_path):
    """An async backend (openai:) runs its requests concurrently inside each worker, as the runner does locally."""
    pytest.importorskip("fastapi")
    from celm.models.mock_server import MockServer
    from celm.scale.generate import RayBackend

    items = load_benchmark()[:20]
    with MockServer() as server:
        spec = f"openai:m@{server.url}"
        local = generate_responses(items, get_model(spec), cache=tmp_path / "local.sqlite", progress=False)
        with RayBackend(spec, address=ray_cluster, workers=2) as backend:
            first = generate_responses(items, backend, cache=tmp_path / "ray.sqlite", concurrency=4, progress=False)
            again = generate_responses(items, backend, cache=tmp_path / "ray.sqlite", concurrency=4, progress=False)
        assert server.stats.requests == 40  # 20 local, 20 on Ray, none for the rerun
    assert first.ok and first.generated == 20 and again.cached == 20 and again.generated == 0
    strip = {"created_at", "latency_s"}
    assert [r.model_dump(exclude=strip) for r in first.responses] == [r.model_dump(exclude=strip) for r in local.responses]
