"""Benchmark: the evaluation harness (issue: evaluation harness).

1. Harness overhead per item: ``celm eval`` with model ``echo`` and the built-in judge (fast mode)
   against UK AISI's ``inspect_ai`` running the same 2,111 prompts with its mock model
   (``mockllm/model``) and a no-op scorer (ratio; aim >= 3x faster). inspect_ai runs in its own
   virtual environment (``.venv-bench``, made by this script if missing), since it is a baseline,
   not a dependency of celm.
2. Time to re-report a finished 2,111-item run from its files (aim <= 2 s).

The 2,111 items (the size of the paper's benchmark) are celm's bundled benchmark plus JADE 2.0
questions from ../shared/data. Run: .venv/bin/python bench/harness.py   (last line: headline)
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BENCH_VENV = REPO / ".venv-bench"

INSPECT_SCRIPT = r'''
import json, sys, time
from inspect_ai import Task, eval as inspect_eval
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.scorer import Score, scorer, accuracy
from inspect_ai.solver import generate
from inspect_ai.model import get_model, ModelOutput, ModelUsage

@scorer(metrics=[accuracy()])
def noop():
    async def score(state, target):
        return Score(value=1)
    return score

def outputs():
    # Usage is set so the mock model does not count tokens with tiktoken (which downloads its tables).
    while True:
        out = ModelOutput.from_content(model="mockllm", content="ok")
        out.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
        yield out

prompts = json.load(open(sys.argv[1], encoding="utf-8"))
task = Task(dataset=MemoryDataset([Sample(input=p, id=str(i)) for i, p in enumerate(prompts)]), solver=generate(), scorer=noop())
t0 = time.perf_counter()
logs = inspect_eval(task, model=get_model("mockllm/model", custom_outputs=outputs()), log_dir=sys.argv[2], display="none",
                    max_connections=32)
print(json.dumps({"seconds": time.perf_counter() - t0, "status": logs[0].status, "samples": len(logs[0].samples or [])}))
'''


def ensure_bench_venv() -> Path:
    python = BENCH_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(BENCH_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "inspect-ai"], check=True)
    return python


def items_2111(tmp: Path) -> Path:
    from celm.data.io import write_records
    from celm.data.sources import load_source

    items = load_source("celm-bench") + load_source("jade-v2-medium") + load_source("jade-v2-easy")
    return write_records(tmp / "items.jsonl", items[:2111])


def main() -> None:
    from celm.data.io import read_records
    from celm.evaluate.report import rereport
    from celm.evaluate.run import EvalConfig, run_eval
    from celm.judge.models.builtin import load_model

    python = ensure_bench_venv()
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        items_path = items_2111(tmp)
        prompts = [i.prompt for i in read_records(items_path)]
        (tmp / "prompts.json").write_text(json.dumps(prompts, ensure_ascii=False), encoding="utf-8")
        load_model()  # weights load is not harness overhead

        celm_times = []
        for rep in range(3):
            config = EvalConfig(model="echo", benchmarks=[str(items_path)], judge="builtin?mode=fast", full=True)
            t0 = time.perf_counter()
            run = run_eval(config, tmp / f"celm-run-{rep}", progress=False, log=lambda *_: None)
            celm_times.append(time.perf_counter() - t0)
        n = len(run.items)
        inspect_times = []
        for rep in range(3):
            out = subprocess.run([str(python), "-c", INSPECT_SCRIPT, str(tmp / "prompts.json"), str(tmp / f"inspect-{rep}")],
                                 capture_output=True, text=True, check=True)
            result = json.loads(out.stdout.strip().splitlines()[-1])
            assert result["samples"] == n, result
            inspect_times.append(result["seconds"])
        t0 = time.perf_counter()
        rereport(run.folder)
        rereport_s = time.perf_counter() - t0

    c, i = min(celm_times), min(inspect_times)
    print(f"celm eval (echo model, builtin judge fast mode, all files and reports written): {n} items in {c:.2f}s "
          f"= {c / n * 1000:.2f} ms/item (best of 3)")
    print(f"inspect_ai eval (mockllm, no-op scorer, log written): {n} items in {i:.2f}s = {i / n * 1000:.2f} ms/item (best of 3)")
    print(f"re-report of the finished {n}-item run from its files: {rereport_s:.2f}s")
    print(f"headline: celm harness {i / c:.1f}x faster per item than inspect_ai; re-report {rereport_s:.2f}s for {n} items")


if __name__ == "__main__":
    main()
