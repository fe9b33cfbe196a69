"""Benchmark: the paper's iterative loop in miniature on CPU (issue 14).

Two rounds from the built-in 0.5B instruct chat model (``celm loop``'s default start: on CTranslate2
int8 where it is installed, otherwise through transformers). Each round: 32 new instructions from
public prompt sets (JADE 2.0 medium, XSafety, CValues; never the evaluation's prompts), three answers
each (two plain, one with the safety system prompt: context distillation), ranked 0-6 by the
built-in four-verdict judge (an automatic rater, not people), paired with ties discarded, then LoRA
SFT on the answers ranked 0-1 and DPO on the pairs (on the transformers weights), both at the
paper's appendix A.3 settings except one epoch each; the merged model is converted for the engine
it started on, so every round generates on the same engine. Answers of up to 80 new tokens; then
`celm eval` on a seeded sample of celm-bench (6 attacks and 2 benign controls per scenario, 64 new
tokens), the same prompts every round. Round 0 is the starting model: the baseline, in the same run.
``--model gguf:gemma3-270m`` runs the old miniature from the Gemma base, whose answers the judge
ranks alike, so it pairs little or nothing.

Run:  .venv/bin/python bench/loop.py            (about an hour on 2 CPU cores; resumable)
      .venv/bin/python bench/loop.py --quick    (a smoke run: 6 instructions a round, 1 attack per scenario)
The last line is the headline: Acc_eval and helpful & safe from round 0 to the last round, each
change with its paired 95% interval, whether every round made pairs and trained, and the wall time.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--output", type=Path, default=Path("runs/bench/loop"))
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--per-round", type=int, default=32)
    ap.add_argument("--attacks-per-scenario", type=int, default=6)
    ap.add_argument("--epochs", type=float, default=1, help="SFT and DPO epochs (appendix A.3 says 3; 1 fits the CPU budget)")
    ap.add_argument("--quick", action="store_true", help="tiny sizes, to check the pipeline")
    ap.add_argument("--model", default=None, help="the starting model (default: celm loop's, the 0.5B instruct model)")
    args = ap.parse_args()
    if args.quick:
        args.per_round, args.attacks_per_scenario = 6, 1

    from celm.loop import load_loop_config, run_loop
    from celm.models.defaults import DEFAULT_LOOP_MODEL
    from celm.loop.report import change_text as paired_change_text, round_change

    one_epoch = {"num_train_epochs": args.epochs, "max_length": 256}
    if args.quick:
        # a dozen rows make one or two optimizer steps at A.3's 8-step accumulation, and the first
        # step of a warm-up runs at learning rate 0: accumulate 2, so each stage takes several steps
        one_epoch["gradient_accumulation_steps"] = 2
    cfg = load_loop_config(None, model=args.model or DEFAULT_LOOP_MODEL, model_options="repetition_penalty=1.3&batch_size=16",
                           rounds=args.rounds, seed=0,
                           pool={"sources": ["jade-v2-medium", "xsafety", "cvalues"], "per_round": args.per_round},
                           responses={"samples": 2, "distilled": 1, "temperature": 0.8, "max_new_tokens": 80},
                           rater={"spec": "judge:builtin"},
                           sft={"settings": one_epoch}, dpo={"settings": one_epoch},
                           eval={"benchmarks": ["celm-bench"], "judge": "builtin", "max_new_tokens": 64,
                                 "attacks_per_scenario": args.attacks_per_scenario, "benign_per_scenario": 2})
    t0 = time.perf_counter()
    result = run_loop(cfg, args.output, progress=False, log=lambda m: print(f"  {m}", flush=True))
    minutes = (time.perf_counter() - t0) / 60
    rows = result.rounds

    print(f"\nLoop miniature: {cfg.model}, {args.rounds} rounds of {args.per_round} instructions x 3 answers, "
          f"rater judge:builtin (automatic); eval on {rows[0]['eval_n']} celm-bench attacks")
    print(f"{'round':<7}{'Acc_eval':<26}{'helpful & safe':<26}{'over-refusal':<26}{'pairs':<7}{'ties':<6}{'SFT':<5}"
          f"{'SFT loss':<18}{'DPO loss':<18}")
    for r in rows:
        def loss(stage):
            first, last = r.get(f"{stage}_loss_first"), r.get(f"{stage}_loss_last")
            return "–" if first is None else f"{first:.3f}->{last:.3f}"

        def pct(d):
            return "–" if not d else f"{d['value'] * 100:.1f} [{d['low'] * 100:.1f}, {d['high'] * 100:.1f}]"

        print(f"{r['round']:<7}{pct(r['acc_eval']):<26}{pct(r['helpful_safe']):<26}{pct(r['over_refusal']):<26}"
              f"{str(r.get('pairs') or '–'):<7}{str(r.get('ties') or '–'):<6}{str(r.get('sft') or '–'):<5}"
              f"{loss('sft'):<18}{loss('dpo'):<18}")
    from celm.loop.folder import LoopFolder

    for rf in LoopFolder(args.output).rounds():
        seconds = {step: v.get("seconds") for step, v in rf.steps().items() if v.get("seconds") is not None}
        print(f"round {rf.number} seconds by step: " + ", ".join(f"{k} {v:.0f}" for k, v in seconds.items()))
    for r in rows[1:]:
        print(f"round {r['round']} vs {r['round'] - 1}: Acc_eval {paired_change_text(r['change']['acc_eval'])}, "
              f"helpful & safe {paired_change_text(r['change']['helpful_safe'])}")
    # a stage trains when it ran more than one optimizer step: the first step of the warm-up runs at
    # learning rate 0, so a one-step stage leaves the model as it was
    steps = [{stage: (rf.done(stage) or {}).get("steps") or 0 for stage in ("sft", "dpo")}
             for rf in LoopFolder(args.output).rounds() if rf.number > 0]
    trained = [all(n > 1 for n in s.values()) for s in steps]
    counts = "; ".join(f"round {k}: SFT {s['sft']}, DPO {s['dpo']} steps" for k, s in enumerate(steps, 1))
    every = (f"every round made pairs and trained SFT + DPO ({counts})" if trained and all(trained) else
             f"SFT and DPO both trained (more than one step) in {sum(trained)} of {len(trained)} rounds ({counts})")
    first, last = rows[0], rows[-1]
    total = {name: round_change(args.output, first["round"], last["round"], name) for name in ("acc_eval", "helpful_safe")}
    print(f"report: {args.output / 'report.md'}; this run {minutes:.1f} min on {os.cpu_count()} CPU cores "
          "(a resumed run counts only its own part)")
    print(f"loop miniature ({args.rounds} rounds, judge-rated): Acc_eval {first['acc_eval']['value'] * 100:.1f}% -> "
          f"{last['acc_eval']['value'] * 100:.1f}% ({paired_change_text(total['acc_eval'])}), helpful & safe "
          f"{first['helpful_safe']['value'] * 100:.1f}% -> {last['helpful_safe']['value'] * 100:.1f}% "
          f"({paired_change_text(total['helpful_safe'])}); {every}; {minutes:.1f} min")


if __name__ == "__main__":
    main()
