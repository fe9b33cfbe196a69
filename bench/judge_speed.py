"""Benchmark: how fast the default judge reads (instruction, response) pairs on 2 cores.

The issue's aim is 100 pairs/s in the default mode. Measured on responses the shipped weights never
saw (the batches of celm-responses in ``SHIPPED_NEVER_SAW``: the table-4 bench's two LoRA SFTs of the
Gemma base and its new base responses, and the 1.5B instruct model's answers to new prompts), 300 of
them picked evenly, with an **empty embedding cache** (what a first
run over new responses costs; a re-run over the same responses hits the cache and costs almost
nothing). The weights are surer of responses they were trained on and would send fewer of them to the
semantic model, which would overstate the speed, so those are not used.

Each judge is timed ``--repeat`` times (a fresh cache each time) and the median is kept, after one
warm-up pair that loads the embedding model. Baselines in the same run: the previous four-verdict
weights (``builtin:fourway-v4``) and the keyword judge. The semantic model's share of pairs is printed
too: it sets the cascade's speed (the lexical model reads ~1,500 pairs/s, the semantic one ~15).

Run: .venv/bin/python bench/judge_speed.py [--n 300] [--repeat 3]
The last line is the headline figure.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from judge_real import SHIPPED_NEVER_SAW, empty_cache  # noqa: E402

from celm.data.sources import load_source  # noqa: E402
from celm.judge import get_judge  # noqa: E402


def timed(judge, instructions, responses) -> tuple[float, list]:
    """Seconds to judge the pairs with an empty embedding cache, and the verdicts."""
    with empty_cache():
        judge.judge_many(["热身"], ["热身"])  # loads the embedding model before the clock starts
        t0 = time.perf_counter()
        out = judge.judge_many(instructions, responses)
        return time.perf_counter() - t0, out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=300, help="pairs to judge (picked evenly from the never-seen batch)")
    ap.add_argument("--repeat", type=int, default=3, help="timings per judge; the median is kept")
    args = ap.parse_args()
    rows = [r for r in load_source("celm-responses") if r.provenance.details["batch"] in SHIPPED_NEVER_SAW]
    picked = rows[:: max(1, len(rows) // args.n)][:args.n]
    instructions, responses = [r.instruction for r in picked], [r.response for r in picked]
    print(f"{len(picked)} (instruction, response) pairs the shipped weights never saw; empty embedding cache; "
          f"{os.cpu_count()} CPUs; median of {args.repeat}")
    rates = {}
    for spec in ("builtin", "builtin?mode=fast", "builtin?mode=full", "builtin:fourway-v4", "keyword"):
        judge = get_judge(spec)
        runs = [timed(judge, instructions, responses) for _ in range(args.repeat)]
        seconds = statistics.median(s for s, _ in runs)
        semantic = sum("semantic model" in v.reason for v in runs[0][1])
        rates[spec] = len(picked) / seconds
        print(f"  {judge.judge_id:40s} {rates[spec]:9.1f} pairs/s  (semantic model on {semantic} of {len(picked)})", flush=True)
    print(f"default judge (cascade) {rates['builtin']:.1f} pairs/s on 2 cores, empty cache (aim 100); fast "
          f"{rates['builtin?mode=fast']:.0f}, full {rates['builtin?mode=full']:.1f}; previous weights (fourway-v4) "
          f"{rates['builtin:fourway-v4']:.1f}; keyword {rates['keyword']:.0f}")


if __name__ == "__main__":
    main()
