"""Benchmark: how the built-in judge's recipe grows with labelled real responses (a learning curve).

The issue's targets for the default judge are risk-vs-not macro-F1 0.90 and 4-way accuracy 0.85 on
labelled real responses, at 100 pairs/s on 2 cores. This asks what more labels would buy: all of
celm-responses (every labelling batch) is split into ``--folds`` folds grouped by prompt; in each
fold the shipped recipe (``train_fourway``: the labelled responses, celm's written examples and
platform posts, COLD train, the request model's pool leaving the fold's prompts out) is trained on
a growing share of the other folds' prompts (the same seeded order, so each share holds the smaller
ones), and judges the held-out fold, in ``fast`` (lexical model alone) and ``cascade`` (the default)
mode. The figures are pooled over folds: risk F1, 4-way accuracy, and the Acc_eval error overall and
on the fluent instruct models' responses (the Qwen2.5 family, where the judge is weakest).

The last two shares' gain per doubling of labels is printed with a log-linear extrapolation of how
many labelled responses the recipe would need for F1 0.90: a rough guide, not a measurement.

Run: .venv/bin/python bench/judge_learning_curve.py [--folds 5] [--shares 0.125,0.25,0.5,1] [--json out.json]
The last line is the headline figure.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from judge_real import figures, written_examples  # noqa: E402

from celm.data.sources import load_source  # noqa: E402
from celm.judge.models.builtin import BuiltinJudge  # noqa: E402

MODES = ("fast", "cascade")
PROBE = "probe"


def fluent(row) -> bool:
    """The instruct chat models' responses (Qwen2.5-Coder 0.5B/1.5B): fluent answers, the hard case."""
    return "qwen2.5" in row.model


def splits(rows, folds: int, shares: list[float], seed: int = 0):
    """(fold, share, training row indices, held-out row indices): grouped by prompt, the shares of each
    fold's training prompts nested (a seeded order, so each share holds the smaller ones)."""
    from sklearn.model_selection import GroupKFold

    for k, (tr, te) in enumerate(GroupKFold(n_splits=folds).split(rows, groups=[r.item_id for r in rows]), 1):
        prompts = sorted({rows[i].item_id for i in tr})
        random.Random(seed + k).shuffle(prompts)
        for share in shares:
            keep = set(prompts[:max(1, round(share * len(prompts)))])
            yield k, share, [i for i in tr if rows[i].item_id in keep], te


def curve(rows, folds: int, shares: list[float], builtin: bool = True, probe: bool = False):
    """({share: {mode: verdicts for every row}}, the mean number of labelled responses each share
    trained on): the built-in judge's recipe in its two modes and/or the opt-in probe judge's recipe
    (a chat model's hidden states) on the same splits."""
    from celm.judge.training.examples import to_judge_examples
    from celm.judge.training.fourway import default_request_pool, train_fourway

    examples = to_judge_examples(rows)
    written = written_examples() if builtin else []
    cold = to_judge_examples(load_source("cold-train")) if builtin else []
    modes = (MODES if builtin else ()) + ((PROBE,) if probe else ())
    verdicts = {s: {m: [None] * len(rows) for m in modes} for s in shares}
    n_labelled: dict[float, list[int]] = {s: [] for s in shares}
    states = probe_states(rows) if probe else None
    held_prompts: dict[int, set[str]] = {}
    pools: dict[int, list] = {}
    for k, share, tr, te in splits(rows, folds, shares):
        t0 = time.time()
        n_labelled[share].append(len(tr))
        if builtin:
            held = held_prompts.setdefault(k, {rows[i].instruction for i in te})
            pool = pools.setdefault(k, default_request_pool(held))
            model, _ = train_fourway([examples[i] for i in tr] + [e for e in written if e.instruction not in held] + cold,
                                     request_pool=pool, progress=lambda *_: None)
            for mode in MODES:
                out = BuiltinJudge(mode=mode, model=model).judge_many([rows[i].instruction for i in te],
                                                                       [rows[i].response for i in te])
                for i, v in zip(te, out):
                    verdicts[share][mode][i] = v
        if probe:
            for i, v in zip(te, probe_verdicts(rows, states, tr, te)):
                verdicts[share][PROBE][i] = v
        print(f"  fold {k}/{folds}, share {share:g}: {len(tr)} labelled responses, trained in {time.time() - t0:.0f} s", flush=True)
    return verdicts, {s: float(np.mean(n)) for s, n in n_labelled.items()}


def probe_states(rows) -> np.ndarray:
    from celm.judge.models.probe import PairEncoder
    from celm.judge.training.probe import DEFAULT_LAYER, DEFAULT_MODEL

    t0 = time.time()
    states = PairEncoder(DEFAULT_MODEL, DEFAULT_LAYER).encode(
        [r.instruction for r in rows], [r.response for r in rows],
        progress=lambda d, n: print(f"  hidden states {d}/{n}", flush=True) if d % 160 < 8 or d == n else None)
    print(f"probe: hidden states of {len(rows)} pairs in {time.time() - t0:.0f} s (cached on disk)", flush=True)
    return states


def probe_verdicts(rows, states: np.ndarray, tr: list[int], te) -> list:
    """The probe recipe (``fit_probe``, C by an inner grouped CV) fitted on ``tr``, judging ``te``
    through ``ProbeJudge`` (verdict rules included), as ``bench/judge_probe.py`` does."""
    from celm.data.records import SAFETY_LABELS
    from celm.judge.models.probe import ProbeJudge, ProbeJudgeModel
    from celm.judge.training.probe import DEFAULT_LAYER, DEFAULT_MODEL, fit_probe

    y = np.array([SAFETY_LABELS.index(rows[i].label) for i in tr])
    mean, scale, coef, intercept, _ = fit_probe(states[tr], y, [rows[i].instruction.strip() for i in tr])
    model = ProbeJudgeModel(model_spec=DEFAULT_MODEL, layer=DEFAULT_LAYER, mean=mean, scale=scale, coef=coef, intercept=intercept)
    return ProbeJudge("probe", model=model).judge_many([rows[i].instruction for i in te], [rows[i].response for i in te])


def extrapolate(points: list[tuple[float, float]], target: float = 0.90) -> tuple[float, float | None]:
    """(F1 gained per doubling of labels between the last two points, labels needed for ``target``
    if that gain held; None where it does not grow)."""
    (n0, f0), (n1, f1) = points[-2], points[-1]
    per_doubling = (f1 - f0) / math.log2(n1 / n0)
    if per_doubling <= 0:
        return per_doubling, None
    return per_doubling, n1 * 2 ** ((target - f1) / per_doubling)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--shares", default="0.125,0.25,0.5,1", help="shares of the training folds' prompts, comma-separated")
    ap.add_argument("--judge", choices=("builtin", "probe", "both"), default="builtin",
                    help="whose recipe: the built-in judge's (default), the opt-in probe's (needs the optional model "
                    "qwen2.5-coder-0.5b-instruct; the first run reads every pair, ~25 min on 2 cores), or both")
    ap.add_argument("--json", help="write all figures here")
    args = ap.parse_args()
    shares = sorted(float(s) for s in args.shares.split(","))
    rows = load_source("celm-responses")
    print(f"{len(rows)} labelled responses, {len({r.item_id for r in rows})} prompts, {len({r.model for r in rows})} models; "
          f"{args.folds}-fold CV grouped by prompt; shares of the training prompts: {shares}")
    t0 = time.time()
    verdicts, n_labelled = curve(rows, args.folds, shares, builtin=args.judge != "probe",
                                   probe=args.judge != "builtin")
    flu = [k for k, r in enumerate(rows) if fluent(r)]
    results = {}
    print(f"\n{'labelled':>9} {'mode':8} {'risk F1':>8} {'4-way':>6} {'Acc err':>8} | fluent (n={len(flu)}): "
          f"{'risk F1':>8} {'4-way':>6} {'Acc err':>8}")
    for share in shares:
        for mode in verdicts[share]:
            got = verdicts[share][mode]
            allf = figures(rows, got)
            fl = figures([rows[k] for k in flu], [got[k] for k in flu])
            results[f"{share:g}/{mode}"] = {"labelled": round(n_labelled[share]), "all": allf, "fluent": fl}
            print(f"{n_labelled[share]:9.0f} {mode:8} {allf['risk_macro_f1']:8.3f} {allf['accuracy_4way']:6.3f} "
                  f"{allf['acc_eval_error']:+8.1f} | {'':>17}{fl['risk_macro_f1']:8.3f} {fl['accuracy_4way']:6.3f} "
                  f"{fl['acc_eval_error']:+8.1f}", flush=True)
    lines = []
    for mode in ("cascade", PROBE):
        if f"{shares[-1]:g}/{mode}" not in results:
            continue
        points = [(n_labelled[s], results[f"{s:g}/{mode}"]["all"]["risk_macro_f1"]) for s in shares]
        per_doubling, needed = extrapolate(points)
        results[f"extrapolation/{mode}"] = {"f1_per_doubling": round(per_doubling, 4), "labels_for_0.90": needed and round(needed)}
        last = results[f"{shares[-1]:g}/{mode}"]["all"]
        lines.append(f"{'default judge (cascade)' if mode == 'cascade' else 'probe'}: risk F1 "
                     + " -> ".join(f"{f:.3f}" for _, f in points) + " at " + " / ".join(f"{n:.0f}" for n, _ in points)
                     + f" labelled responses, 4-way {last['accuracy_4way']:.3f}; {per_doubling:+.3f} F1 per doubling"
                     + (f", ~{needed:,.0f} labels for 0.90 if that held" if needed else ", no growth"))
    if args.json:
        Path(args.json).write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"learning curve, CV by prompt on celm-responses ({time.time() - t0:.0f} s): " + "; ".join(lines))


if __name__ == "__main__":
    main()
