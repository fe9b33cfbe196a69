"""Benchmark: decoding defaults for the built-in instruct chat models (issue: real chat models).

At greedy decoding with no repetition penalty some answers of the small instruct models loop on a
sentence until the token limit. This script runs the same prompts under several settings and
reports, for each: wall time, answers/s, the share of looping answers (celm's
``degenerate_repetition`` detector), the share cut at the token limit, and **good answers/s**
(answers that do not loop, per second), which is what the defaults are chosen by. The baseline in
the same run is plain greedy decoding (repetition penalty 1.0) at batch 16.

Run: .venv/bin/python bench/chat_models.py [--model qwen2.5-coder-0.5b-instruct] [--prompts 32] [--tokens 128]
The last line is the headline figure.
"""

from __future__ import annotations

import argparse
import time

from celm.curate.filters import degenerate_repetition
from celm.data.bundled import load_benchmark
from celm.evaluate.run import stratified_sample
from celm.models import GenerationParams, GenerationRequest, build_messages, get_model


def run(model_name: str, items, tokens: int, rp: float, batch: int) -> dict:
    model = get_model(f"gguf:{model_name}?repetition_penalty={rp}&batch_size={batch}")
    params = GenerationParams(max_new_tokens=tokens)
    reqs = [GenerationRequest(id=i.id, messages=build_messages(i.prompt), params=params) for i in items]
    model.generate_batch(reqs[:1])  # weights loaded and warm before the clock starts
    t0 = time.perf_counter()
    outs = model.generate_batch(reqs)
    wall = time.perf_counter() - t0
    loops = sum(bool(degenerate_repetition(o.text, "")) for o in outs)
    cut = sum(o.finish_reason == "length" for o in outs)
    toks = sum(o.completion_tokens or 0 for o in outs)
    return {"rp": rp, "batch": batch, "wall_s": wall, "answers_per_s": len(outs) / wall, "tokens_per_s": toks / wall,
            "loop_share": loops / len(outs), "cut_share": cut / len(outs), "good_per_s": (len(outs) - loops) / wall,
            "examples": [o.text[:80] for o in outs if degenerate_repetition(o.text, "")][:2]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="qwen2.5-coder-0.5b-instruct")
    ap.add_argument("--prompts", type=int, default=32)
    ap.add_argument("--tokens", type=int, default=128)
    ap.add_argument("--settings", default="1.0x16,1.1x16,1.2x16,1.1x8,1.1x32",
                    help="comma-separated REPETITION_PENALTYxBATCH; the first is the baseline")
    args = ap.parse_args()
    items = stratified_sample(load_benchmark(), 2, 1, seed=3)[:args.prompts]
    rows = []
    for setting in args.settings.split(","):
        rp, batch = setting.split("x")
        r = run(args.model, items, args.tokens, float(rp), int(batch))
        rows.append(r)
        print(f"rp={r['rp']:<4} batch={r['batch']:<3} {r['wall_s']:6.1f} s  {r['answers_per_s']:.3f} answers/s  "
              f"{r['tokens_per_s']:6.1f} tok/s  loops {r['loop_share']:5.1%}  cut {r['cut_share']:5.1%}  "
              f"good {r['good_per_s']:.3f}/s  {r['examples']}", flush=True)
    base = rows[0]
    best = max(rows, key=lambda r: r["good_per_s"])
    print(f"{args.model} ({len(items)} prompts, {args.tokens} tokens): best rp={best['rp']} batch={best['batch']} "
          f"{best['good_per_s']:.3f} good answers/s, loops {best['loop_share']:.0%}; baseline rp={base['rp']} "
          f"batch={base['batch']} {base['good_per_s']:.3f}/s, loops {base['loop_share']:.0%}")


if __name__ == "__main__":
    main()
