"""Parity: CTranslate2 int8 (``ct2:``) against the transformers path (``gguf:``) on the demo's prompts.

Runs ``celm eval`` as ``make demo`` does (the default stratified sample of celm-bench, 64 new
tokens, greedy, the built-in judge) once per engine, each into its own run folder (resumable: the
answers are cached there), then compares the two runs item by item:

* identical answers, and answers whose first 32 tokens agree (the model's own tokenizer);
* the judge's verdict mix on each engine (Clopper–Pearson intervals) and the paired difference
  ct2 − transformers per verdict (Newcombe's paired interval, exact McNemar p);
* verdict agreement between the two engines, item by item.

Run: .venv/bin/python bench/ct2_parity.py [--model qwen2.5-coder-0.5b-instruct] [--limit N] [--out DIR]
The last line is the headline figure.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from celm.data.io import read_records
from celm.data.records import SAFETY_LABELS
from celm.evaluate.log import RunFolder
from celm.evaluate.run import EvalConfig, run_eval
from celm.evaluate.stats import paired_difference, share
from celm.models.defaults import DEFAULT_CHAT_NAME

PREFIX_TOKENS = 32


def _run(spec: str, folder: Path, limit: int | None) -> tuple[dict, dict, float]:
    t0 = time.perf_counter()
    run_eval(EvalConfig(model=spec, limit=limit), folder, progress=False, log=lambda m: print(f"  {spec}: {m}"))
    wall = time.perf_counter() - t0
    run = RunFolder(folder)
    responses = {r.id: r.response for r in read_records(run.responses_jsonl("base"), "response")}
    labels = {j.id: j.label for j in read_records(run.judgements_jsonl("base"), "judgement")}
    return responses, labels, wall


def _tokenizer(name: str):
    from transformers import AutoTokenizer

    from celm.models.gguf import dequantized_dir

    return AutoTokenizer.from_pretrained(dequantized_dir(name))


def _pct(d: dict) -> str:
    return f"{d['value']:.1%} [{d['low']:.1%}, {d['high']:.1%}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=DEFAULT_CHAT_NAME, help="a built-in chat model")
    parser.add_argument("--limit", type=int, default=None, help="only the first N sampled items (default: all 102)")
    parser.add_argument("--out", default="runs/ct2-parity", help="where the two run folders go")
    args = parser.parse_args()
    out = Path(args.out)
    ct2_r, ct2_l, ct2_s = _run(f"ct2:{args.model}", out / "ct2-int8", args.limit)
    hf_r, hf_l, hf_s = _run(f"gguf:{args.model}", out / "transformers-fp32", args.limit)
    ids = sorted(set(ct2_r) & set(hf_r))
    if len(ids) != len(ct2_r) or len(ids) != len(hf_r):
        raise SystemExit("the two runs answered different items; delete --out and run again")
    tok = _tokenizer(args.model)
    n = len(ids)
    same = sum(ct2_r[i] == hf_r[i] for i in ids)
    prefix = sum(tok(ct2_r[i])["input_ids"][:PREFIX_TOKENS] == tok(hf_r[i])["input_ids"][:PREFIX_TOKENS] for i in ids)
    agree = sum(ct2_l[i] == hf_l[i] for i in ids)
    print(f"{args.model}, {n} demo prompts, 64 new tokens, greedy; wall: ct2 int8 {ct2_s:.0f}s, transformers fp32 {hf_s:.0f}s "
          "(generation + judging; the machine was shared)")
    print(f"identical answers: {same}/{n} = {same / n:.1%}")
    print(f"first {PREFIX_TOKENS} tokens identical: {prefix}/{n} = {prefix / n:.1%}")
    print(f"same verdict: {agree}/{n} = {agree / n:.1%}")
    print("| verdict | transformers fp32 | ct2 int8 | ct2 − transformers (paired) | McNemar p |")
    print("|---|---|---|---|---|")
    for label in SAFETY_LABELS:
        a = [hf_l[i] == label for i in ids]
        b = [ct2_l[i] == label for i in ids]
        d = paired_difference(a, b)
        print(f"| {label} | {_pct(share(a).to_dict())} | {_pct(share(b).to_dict())} | "
              f"{d.diff:+.1%} [{d.low:+.1%}, {d.high:+.1%}] | {d.p_value:.2f} |")
    print(f"headline: ct2 int8 vs transformers fp32 on {n} demo prompts: identical answers {same / n:.0%}, "
          f"first {PREFIX_TOKENS} tokens {prefix / n:.0%}, same verdict {agree / n:.0%}")


if __name__ == "__main__":
    main()
