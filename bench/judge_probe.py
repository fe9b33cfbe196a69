"""Benchmark: the probe judge (a chat model's hidden states) against people on real model responses.

The same labelled set and the same two measurements as ``bench/judge_real.py``:

* on the 942 responses the shipped probe was trained on (Gemma 3 270M base, Qwen2.5-Coder 0.5B and
  1.5B Instruct), its **recipe, 5-fold cross-validated grouped by prompt** (each fold fits
  :func:`celm.judge.training.probe.fit_probe`, its C chosen by an inner grouped CV, on the other prompts'
  responses and judges the held-out ones through ``ProbeJudge``, verdict rules included);
* **the shipped probe on the 454 responses it never saw** (the ``table4`` batch: the table-4 bench's
  helpfulness and safety LoRA SFTs of the Gemma base, models it never saw, and new base responses).

Baseline in the same run: the default built-in judge (four-verdict v5, cascade) as shipped on the
same 454 (its cross-validated figures on the 942 come from ``bench/judge_real.py``, 41 min). Speed:
the probe on ``--speed-n`` pairs it has not read before (empty cache) against the built-in judge.

The chat model's hidden states are cached on disk by text: the first run reads 1,396 pairs (about
20 min on 2 cores), later runs a few seconds. Needs the optional built-in model
``qwen2.5-coder-0.5b-instruct`` (``celm models list``).

Run: .venv/bin/python bench/judge_probe.py [--jade] [--record]      The last line is the headline figure.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from judge_real import SHIPPED_NEVER_SAW, by_model, empty_cache, held_out_errors, report  # noqa: E402

from celm.data.records import SAFETY_LABELS  # noqa: E402
from celm.data.sources import load_source  # noqa: E402
from celm.judge import get_judge  # noqa: E402
from celm.judge.models.probe import PairEncoder, ProbeJudge, ProbeJudgeModel  # noqa: E402
from celm.judge.training.probe import DEFAULT_LAYER, DEFAULT_MODEL, fit_probe  # noqa: E402


def cross_validated(rows, states: np.ndarray, folds: int):
    from sklearn.model_selection import GroupKFold

    y = np.array([SAFETY_LABELS.index(r.label) for r in rows])
    verdicts = [None] * len(rows)
    for k, (tr, te) in enumerate(GroupKFold(n_splits=folds).split(rows, groups=[r.item_id for r in rows]), 1):
        mean, scale, coef, intercept, C = fit_probe(states[tr], y[tr], [rows[i].instruction.strip() for i in tr])
        model = ProbeJudgeModel(model_spec=DEFAULT_MODEL, layer=DEFAULT_LAYER, mean=mean, scale=scale, coef=coef, intercept=intercept)
        got = ProbeJudge("probe", model=model).judge_many([rows[i].instruction for i in te], [rows[i].response for i in te])
        for i, v in zip(te, got):
            verdicts[i] = v
        print(f"  fold {k}/{folds}: fitted on {len(tr)} (C {C}), judged {len(te)}", flush=True)
    return verdicts


def pairs_per_s(judge, rows) -> float:
    with empty_cache():
        judge.judge_many(["热身"], ["热身"])  # loads the model before the clock starts
        t0 = time.perf_counter()
        judge.judge_many([r.instruction for r in rows], [r.response for r in rows])
        return len(rows) / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--speed-n", type=int, default=40, help="pairs timed with an empty cache")
    ap.add_argument("--jade", action="store_true", help="also score JADE 3.0's 1,000 answer pairs, never trained on (~13 min "
                    "on 2 cores the first time)")
    ap.add_argument("--record", action="store_true", help="store the shipped probe's figures in measured.json (celm eval prints them)")
    args = ap.parse_args()
    rows = load_source("celm-responses")
    seen = [r for r in rows if r.provenance.details["batch"] not in SHIPPED_NEVER_SAW]
    new = [r for r in rows if r.provenance.details["batch"] in SHIPPED_NEVER_SAW]
    encoder = PairEncoder(DEFAULT_MODEL, DEFAULT_LAYER)
    t0 = time.perf_counter()
    states = encoder.encode([r.instruction for r in seen], [r.response for r in seen],
                            progress=lambda d, n: print(f"  hidden states {d}/{n}", flush=True) if d % 80 < 8 or d == n else None)
    print(f"hidden states of {len(seen)} pairs in {time.perf_counter() - t0:.0f} s (cached on disk)")

    print(f"\nprobe recipe, {args.folds}-fold cross-validation grouped by prompt, on the {len(seen)} responses the shipped probe was trained on:")
    results = {"probe-cv": report("probe judge, cross-validated by prompt", seen, cross_validated(seen, states, args.folds), by_model(seen))}
    shipped = get_judge("probe")
    probe_new = shipped.judge_many([r.instruction for r in new], [r.response for r in new])
    results["probe-new"] = report(f"shipped probe ({shipped.judge_id}) on the {len(new)} responses it never saw", new,
                                  probe_new, by_model(new))
    builtin = get_judge("builtin")
    results["builtin-new"] = report(f"baseline: the default judge ({builtin.judge_id}) on the same {len(new)}", new,
                                    builtin.judge_many([r.instruction for r in new], [r.response for r in new]), by_model(new))
    timed = new[:: max(1, len(new) // args.speed_n)][:args.speed_n]
    speed = {"probe": pairs_per_s(shipped, timed), "builtin": pairs_per_s(builtin, timed)}
    print(f"\nspeed on {len(timed)} new pairs, empty cache, {os.cpu_count()} CPUs: probe {speed['probe']:.2f} pairs/s, "
          f"built-in {speed['builtin']:.1f} pairs/s")
    if args.jade:
        from sklearn.metrics import f1_score

        from celm.data.convert import pairs_to_judge_examples

        jade = pairs_to_judge_examples(load_source("jade-v3"))
        got = shipped.judge_many([e.instruction for e in jade], [e.response for e in jade])
        results["jade_v3_answers"] = round(float(f1_score([e.label == "risk" for e in jade], [v.label == "risk" for v in got],
                                                          average="macro")), 3)
        print(f"JADE 3.0 answers ({len(jade)}, never trained on): risk-vs-not macro-F1 {results['jade_v3_answers']:.3f}")
    if args.record:
        from celm.judge.measured import record

        new_models = held_out_errors(seen, new, probe_new)
        record(shipped.judge_id, {**results["probe-cv"]["overall"], "set": "celm-responses",
                                  "how": f"{args.folds}-fold cross-validation of the training recipe, grouped by prompt",
                                  "models": sorted({r.model for r in seen}),
                                  "per_model": {g[6:]: f["acc_eval_error"] for g, f in results["probe-cv"].items()
                                                if g.startswith("model ") and "acc_eval_error" in f},
                                  "new_models": new_models, "new_models_how": "these weights",
                                  **({"jade_v3_answers": results["jade_v3_answers"]} if "jade_v3_answers" in results else {})})
    cv, fresh, base = results["probe-cv"]["overall"], results["probe-new"]["overall"], results["builtin-new"]["overall"]
    print(f"probe judge on {cv['n']} labelled real responses (cross-validated by prompt): risk F1 {cv['risk_macro_f1']:.3f}, "
          f"4-way {cv['accuracy_4way']:.3f}, Acc_eval error {cv['acc_eval_error']:+.1f}; on {fresh['n']} it never saw: F1 "
          f"{fresh['risk_macro_f1']:.3f}, 4-way {fresh['accuracy_4way']:.3f}, error {fresh['acc_eval_error']:+.1f} (default judge: "
          f"F1 {base['risk_macro_f1']:.3f}, 4-way {base['accuracy_4way']:.3f}, error {base['acc_eval_error']:+.1f}); "
          f"{speed['probe']:.2f} pairs/s vs {speed['builtin']:.0f}")


if __name__ == "__main__":
    main()
