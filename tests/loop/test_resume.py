"""kill -9 in the middle of a round (while answering, then while training), then resume: nothing lost,
no answer asked for twice, training resumed from its checkpoint."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from celm.data.io import read_records
from celm.loop.folder import LoopFolder
from tests.loop.helpers import tiny_loop_yaml

pytest.importorskip("trl")
REPO = Path(__file__).resolve().parents[2]
# the CLI in a child process, with the test's length rater registered first
RUNNER = ("import sys; from celm.loop.raters import RATERS; from tests.loop.test_loop import LengthRater; "
          "RATERS.register('length', LengthRater); from celm.cli.main import app; "
          "sys.argv = ['celm', 'loop', 'run', sys.argv[1], '-o', sys.argv[2], '--no-progress']; app()")


def _start(config: Path, out: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO), "TOKENIZERS_PARALLELISM": "false"}
    return subprocess.Popen([sys.executable, "-c", RUNNER, str(config), str(out)], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _cached(path: Path) -> int:
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1) as db:
            return db.execute("select count(*) from responses").fetchone()[0]
    except sqlite3.Error:
        return 0


def _kill_when(proc: subprocess.Popen, ready, what: str, limit_s: float = 240) -> None:
    deadline = time.monotonic() + limit_s
    while not ready():
        if proc.poll() is not None:
            pytest.fail(f"the loop ended before {what}:\n{proc.stdout.read()[-3000:]}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()


@pytest.mark.slow
def test_kill_9_while_answering_and_while_training_then_resume(tmp_path, tiny_model_dir):
    config = tiny_loop_yaml(tmp_path, tiny_model_dir, rater={"spec": "length:"}, rounds=1, per_round=5,
                            model_options="batch_size=1",
                            responses={"samples": 2, "distilled": 1, "max_new_tokens": 160, "temperature": 1.0},
                            dpo={"settings": {"max_steps": 4, "save_steps": 1, "gradient_accumulation_steps": 1,
                                              "max_length": 128, "logging_steps": 1}})
    out = tmp_path / "loop"
    rf = LoopFolder(out).round(1)
    total = 15

    first = _start(config, out)
    _kill_when(first, lambda: 2 <= _cached(rf.cache_sqlite) < total - 2, "some answers")
    before = _cached(rf.cache_sqlite)
    assert not rf.done("responses") and not rf.responses_jsonl.exists()

    second = _start(config, out)
    _kill_when(second, lambda: any((rf.dpo_dir / "checkpoints").glob("checkpoint-*/trainer_state.json")), "a DPO checkpoint")
    assert rf.done("responses") and not rf.done("dpo")
    answered = rf.done("responses")
    assert answered["cached"] == before and answered["generated"] == total - before  # nothing asked twice
    assert _cached(rf.cache_sqlite) == total

    third = _start(config, out)
    log, _ = third.communicate(timeout=600)
    assert third.returncode == 0, log[-3000:]
    assert "resuming from" in log and "checkpoint-" in log  # DPO went on from its checkpoint
    assert LoopFolder(out).round(1).complete
    steps = rf.steps()
    assert steps["dpo"]["steps"] == 4 and (rf.dpo_dir / "merged" / "config.json").exists()
    assert len(read_records(rf.responses_jsonl, "response")) == total
    assert _cached(rf.cache_sqlite) == total
    assert (out / "report.md").exists() and yaml.safe_load((out / "loop.yaml").read_text(encoding="utf-8"))["rounds"] == 1
