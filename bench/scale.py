"""Benchmark: curation of 2,000,000 instructions, in one streaming process and on a local Ray cluster.

The pool is every text of the shared public sources (as bench/curate.py) plus seeded perturbed
copies (punctuation, spacing, full-width characters, a swapped pair of characters, polite
prefixes and suffixes), written to a JSONL file first; each run reads that file. The chain is
bench/curate.py's: normalise -> dedup (MinHash LSH, 3-gram Jaccard >= 0.7) -> filter -> classify
-> split.

* **One process** (``celm curate run``): wall time, peak memory of the process (targets: <= 3 min,
  <= 4 GiB on 2 cores), seconds per stage. It runs in a child process, so the peak is its own.
* **Ray** (``celm curate run --ray ADDRESS``) on a local cluster started here with
  ``ray start --head --num-cpus 2``: wall time, seconds per phase, and the peak resident memory of
  every Ray worker process (polled every 0.2 s), at two pool sizes, to show that per-worker memory
  stays flat as the pool grows. The driver's peak is reported separately.
* Both outputs are compared byte for byte.

Baseline in the same run: the in-memory chain (every stage over the whole pool, as celm ran before
streaming) on a smaller pool, for its peak memory per instruction.

Run: .venv/bin/python bench/scale.py [--n 2000000] [--ray-sizes 250000,1000000] [--baseline 300000]
The last line is the headline figure.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from curate import PERTURB  # noqa: E402  (bench/curate.py: the same perturbations)

PIPELINE = """input: [{input}]
output: {output}
seed: 0
stages:
  - normalize
  - dedup: {{threshold: 0.7}}
  - filter
  - classify: {{threshold: 0.5}}
  - split
"""
SOURCES = ("flames", "cvalues", "jade-v1", "jade-v2-easy", "jade-v2-medium", "jade-v3", "xsafety", "cold-train",
           "cold-dev", "safetybench", "alpaca-zh-demo", "dpo-zh-demo", "celm-bench")


def write_corpus(path: Path, n: int, seed: int = 0) -> int:
    """``n`` instruction rows, streamed to ``path``: each a source text, perturbed unless it is the
    text's first appearance. Returns the number of distinct source texts."""
    from celm.data.sources import load_source
    from celm.data.stats import primary_text

    texts: list[tuple[str, str]] = []
    for name in SOURCES:
        for rec in load_source(name):
            text = primary_text(rec) or getattr(rec, "response", "")
            if text.strip():
                texts.append((name, text))
    rng = random.Random(seed)
    rng.shuffle(texts)
    with open(path, "w", encoding="utf-8") as fh:
        for k in range(n):
            source, text = texts[k] if k < len(texts) else texts[rng.randrange(len(texts))]
            if k >= len(texts):
                text = rng.choice(PERTURB)(text, rng)
            fh.write(json.dumps({"id": f"i{k}", "text": text, "provenance": {"source": source}}, ensure_ascii=False) + "\n")
    return len(texts)


def child(config: str, ray: str | None, memory_file: str | None) -> None:
    """One curation run (in a child process, so its peak memory is its own)."""
    from celm.curate.engine import run_pipeline
    from celm.curate.pipeline import PipelineConfig

    timings: dict = {}
    t = time.perf_counter()
    summary = run_pipeline(PipelineConfig.from_yaml(config), log=lambda m: print("   ", m, flush=True), ray=ray,
                           timings=timings)
    wall = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(json.dumps({"wall": wall, "peak_gib": peak, "timings": timings, "final": summary["final"],
                      "stages": summary["stages"]}), flush=True)


def in_memory_child(config: str) -> None:
    """The baseline: every stage over the whole pool in memory."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from celm.curate.pipeline import PipelineConfig
    from tests.curate.reference import run_in_memory

    cfg = PipelineConfig.from_yaml(config)
    t = time.perf_counter()
    summary = run_in_memory(cfg, cfg.output)
    print(json.dumps({"wall": time.perf_counter() - t, "peak_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
                      "final": summary["final"]}), flush=True)


def run_child(args: list[str]) -> dict:
    proc = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True)
    for line in proc.stdout.splitlines()[:-1]:
        print(line)
    if proc.returncode:
        print(proc.stdout[-3000:], proc.stderr[-5000:])
        raise SystemExit(f"child {args} failed")
    return json.loads(proc.stdout.splitlines()[-1])


class WorkerMemory:
    """Peak private memory of every Ray worker process (``ray::`` in its title), polled in a thread:
    resident memory less its shared pages. A worker maps the object store (shared memory) and reads
    blocks in place, so its RSS counts every object-store page it ever touched: that grows with the
    pool (4.1 GiB for a task that holds one 20,000-record block, at 2M) though it is one shared copy
    per node, not the worker's own memory. Peak RSS is kept too."""

    def __init__(self):
        import psutil

        self.psutil = psutil
        self.peaks: dict[int, float] = {}
        self.rss: dict[int, float] = {}
        self.titles: dict[int, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self):
        while not self._stop.is_set():
            for p in self.psutil.process_iter(["pid", "name", "cmdline"]):
                try:
                    title = " ".join(p.info["cmdline"] or []) or p.info["name"] or ""
                    if title.startswith("ray::") or "default_worker.py" in title:
                        info = p.memory_info()
                        private = (info.rss - info.shared) / 2**30
                        self.rss[p.pid] = max(self.rss.get(p.pid, 0.0), info.rss / 2**30)
                        if private > self.peaks.get(p.pid, 0.0):
                            self.peaks[p.pid] = private
                            self.titles[p.pid] = title[:40].strip()
                except (self.psutil.NoSuchProcess, self.psutil.AccessDenied):
                    pass
            self._stop.wait(0.2)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def start_cluster(temp: Path) -> tuple[subprocess.Popen, str]:
    """A local 2-CPU cluster as the tests start it (tests/scale/conftest.py: free ports, no token)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.scale.conftest import head_command

    os.environ["RAY_AUTH_MODE"] = "disabled"
    temp.mkdir(parents=True, exist_ok=True)
    cmd, address = head_command(Path(sys.executable).with_name("ray"), temp)
    log = temp / "head.log"
    head = subprocess.Popen(cmd, stdout=open(log, "w"), stderr=subprocess.STDOUT, env={**os.environ, "RAY_USAGE_STATS_ENABLED": "0"})
    for _ in range(60):
        if "Ray runtime started" in log.read_text():
            return head, address
        time.sleep(1)
    raise SystemExit(f"ray start failed:\n{log.read_text()[-3000:]}")


def same_files(a: Path, b: Path) -> bool:
    names = sorted(p.name for p in a.iterdir())
    return names == sorted(p.name for p in b.iterdir()) and all(filecmp.cmp(a / n, b / n, shallow=False) for n in names)


def stage_line(result: dict, n: int) -> str:
    """Seconds per stage, with each stage's throughput on its own input (read: the pool)."""
    inputs = {s["stage"]: s["input"] for s in result["stages"]}
    parts = []
    for name, seconds in result["timings"].items():
        count = inputs.get(name.split("+")[0], n if name == "read" else result["final"])
        parts.append(f"{name} {seconds:.1f} s ({count / seconds / 1000:.0f}k/s)" if seconds > 0 else f"{name} 0 s")
    return ", ".join(parts)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2_000_000)
    ap.add_argument("--ray-sizes", default="250000,2000000", help="pool sizes for the Ray runs (the last is compared with one process)")
    ap.add_argument("--baseline", type=int, default=300_000, help="pool size for the in-memory baseline")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        kind, config, *rest = args.child
        if kind == "memory":
            return in_memory_child(config)
        return child(config, rest[0] if rest and rest[0] != "-" else None, None)

    work = Path(tempfile.mkdtemp(prefix="celm-scale-"))
    ray_sizes = [int(x) for x in args.ray_sizes.split(",") if x]
    sizes = sorted({args.n, args.baseline, *ray_sizes})
    corpora = {}
    for n in sizes:
        t = time.perf_counter()
        corpora[n] = work / f"pool-{n}.jsonl"
        originals = write_corpus(corpora[n], n)
        print(f"pool of {n:,}: {originals:,} source texts + perturbed copies, {corpora[n].stat().st_size / 2**20:.0f} MiB, "
              f"written in {time.perf_counter() - t:.0f} s", flush=True)

    def config(n: int, name: str) -> str:
        path = work / f"{name}.yaml"
        path.write_text(PIPELINE.format(input=corpora[n], output=work / name), encoding="utf-8")
        return str(path)

    print(f"\n== one process, streaming: {args.n:,} instructions", flush=True)
    single = run_child(["--child", "stream", config(args.n, f"single-{args.n}"), "-"])
    print(f"   {single['wall']:.1f} s, peak {single['peak_gib']:.2f} GiB, {single['final']:,} records out; "
          f"{stage_line(single, args.n)}", flush=True)

    print(f"\n== baseline: the whole pool in memory, {args.baseline:,} instructions", flush=True)
    base = run_child(["--child", "memory", config(args.baseline, f"memory-{args.baseline}")])
    streamed_base = run_child(["--child", "stream", config(args.baseline, f"stream-{args.baseline}"), "-"])
    print(f"   in memory {base['wall']:.1f} s, peak {base['peak_gib']:.2f} GiB; streaming {streamed_base['wall']:.1f} s, "
          f"peak {streamed_base['peak_gib']:.2f} GiB; same files: {same_files(work / f'memory-{args.baseline}', work / f'stream-{args.baseline}')}",
          flush=True)

    ray_results = {}
    if ray_sizes:
        head, address = start_cluster(work / "ray")
        try:
            for n in ray_sizes:
                print(f"\n== Ray (local cluster, 2 CPUs): {n:,} instructions", flush=True)
                with WorkerMemory() as mem:
                    r = run_child(["--child", "ray", config(n, f"ray-{n}"), address])
                workers = sorted(mem.peaks.values())
                r["worker_peak_gib"] = max(workers) if workers else 0.0
                r["worker_peak_rss_gib"] = max(mem.rss.values()) if mem.rss else 0.0
                top = sorted(mem.peaks, key=mem.peaks.get, reverse=True)[:3]
                print("   largest workers: " + "; ".join(f"{mem.titles[p]} {mem.peaks[p]:.2f} GiB" for p in top), flush=True)
                r["workers"] = len(workers)
                ray_results[n] = r
                print(f"   {r['wall']:.1f} s; driver peak {r['peak_gib']:.2f} GiB; {len(workers)} worker processes, "
                      f"peak private memory per worker {r['worker_peak_gib']:.2f} GiB (median {workers[len(workers) // 2] if workers else 0:.2f}; "
                      f"peak RSS with object-store pages {r['worker_peak_rss_gib']:.2f} GiB); "
                      f"{stage_line(r, n)}", flush=True)
        finally:
            head.terminate()
            head.wait(timeout=120)
    n_ray = ray_sizes[-1] if ray_sizes else None
    identical = same_files(work / f"single-{args.n}", work / f"ray-{n_ray}") if n_ray == args.n else None
    if identical is not None:
        print(f"\nRay and one-process outputs at {args.n:,}: {'byte-identical' if identical else 'DIFFERENT'}")
    flat = ""
    if len(ray_results) >= 2:
        lo, hi = ray_sizes[0], ray_sizes[-1]
        flat = (f"; Ray worker peak private memory {ray_results[lo]['worker_peak_gib']:.2f} GiB at {lo / 1e6:g}M vs "
                f"{ray_results[hi]['worker_peak_gib']:.2f} GiB at {hi / 1e6:g}M, Ray wall {ray_results[hi]['wall']:.0f} s")
    per_item_mem = base["peak_gib"] / args.baseline * args.n
    print(f"curation of {args.n:,} instructions in one streaming process: {single['wall']:.0f} s (target <= 180), "
          f"peak {single['peak_gib']:.2f} GiB (target <= 4; the in-memory chain's {base['peak_gib']:.2f} GiB at "
          f"{args.baseline / 1e6:g}M extrapolates to ~{per_item_mem:.0f} GiB){flat}"
          + ("" if identical is None else f"; Ray output byte-identical: {identical}"))


if __name__ == "__main__":
    main()
