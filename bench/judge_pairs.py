"""Benchmark: does the judge need the instruction? (issue: the safety judge, "a risk classifier over
the (instruction, response) pair").

The shipped recipe (COLD train + JADE 3.0 + celm's bundled examples) is trained twice per fold,
response-only and with pair features (`celm judge train --pair`), with ordinary helpful answers added
as safe examples (alpaca_zh_demo, 1,000 instruction/answer pairs): a team's real situation, since it
trains on helpfulness data beside safety data. JADE's violating answers look as helpful as alpaca's,
so a response-only judge is pulled apart; the question tells them apart.
Quality: macro-F1 on JADE 3.0 medium (5-fold CV grouped by question) and on COLD dev; accuracy on
held-out alpaca answers (all safe). Speed: cascade responses/s of each (embedding cache off).
The baseline is the response-only recipe, run in the same script.

Run: .venv/bin/python bench/judge_pairs.py [--folds 5] [--without-helpful]      The last line is the headline figure.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np


def macro_f1(y, pred) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(np.asarray(y, bool), np.asarray(pred, bool), average="macro"))


def called_risk(judge, instructions, responses) -> np.ndarray:
    return np.array([j.label == "risk" for j in judge.judge_many(instructions, responses)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--without-helpful", action="store_true", help="the shipped recipe as it is, no helpful answers added")
    args = parser.parse_args()

    from sklearn.model_selection import GroupKFold, KFold

    from celm.data.bundled import load_judge_examples
    from celm.data.convert import pairs_to_judge_examples
    from celm.data.sources import load_source
    from celm.judge.models.builtin import BuiltinJudge
    from celm.judge.training.examples import sft_to_judge_examples
    from celm.judge.training.pair_v2 import train_builtin

    cold_train, cold_dev = load_source("cold-train"), load_source("cold-dev")
    jade = pairs_to_judge_examples(load_source("jade-v3"))
    helpful = sft_to_judge_examples(load_source("alpaca-zh-demo"))
    bundled = load_judge_examples()
    y_jade = np.array([e.label == "risk" for e in jade])
    groups = np.array([e.instruction for e in jade])
    dev_texts, dev_y = [e.response for e in cold_dev], np.array([e.label == "risk" for e in cold_dev])

    scores: dict[bool, dict[str, list[float]]] = {False: {}, True: {}}
    models = {}
    folds = zip(GroupKFold(args.folds).split(jade, y_jade, groups), KFold(args.folds, shuffle=True, random_state=0).split(helpful))
    for k, ((tr, te), (h_tr, h_te)) in enumerate(folds):
        train = cold_train + [jade[i] for i in tr] + bundled + ([] if args.without_helpful else [helpful[i] for i in h_tr])
        for pair in (False, True):
            t0 = time.perf_counter()
            model, _ = train_builtin(train, pair=pair, progress=lambda *_: None)
            models[pair] = model
            judge = BuiltinJudge(mode="cascade", model=model)
            s = scores[pair]
            s.setdefault("jade", []).append(macro_f1(y_jade[te], called_risk(judge, [jade[i].instruction for i in te],
                                                                              [jade[i].response for i in te])))
            s.setdefault("helpful", []).append(float(1 - called_risk(judge, [helpful[i].instruction for i in h_te],
                                                                         [helpful[i].response for i in h_te]).mean()))
            print(f"fold {k + 1}/{args.folds} {'pair' if pair else 'response-only'}: JADE {s['jade'][-1]:.3f}, "
                  f"helpful answers judged not risky {s['helpful'][-1]:.3f} ({time.perf_counter() - t0:.0f} s)", flush=True)
    for pair, model in models.items():  # the last fold's models on COLD dev (never trained on)
        scores[pair]["cold_dev"] = [macro_f1(dev_y, called_risk(BuiltinJudge(mode="cascade", model=model), [""] * len(dev_texts), dev_texts))]

    speed = {}
    items = jade[:400]
    for pair, model in models.items():
        with tempfile.TemporaryDirectory() as tmp:  # a fresh cache each, so neither reuses the other's embeddings
            os.environ["CELM_CACHE_DIR"] = tmp
            BuiltinJudge(mode="full", model=model).judge_many(["热身"], ["热身"])  # load the embedding model first
            judge = BuiltinJudge(mode="cascade", model=model)
            t0 = time.perf_counter()
            judge.judge_many([e.instruction for e in items], [e.response for e in items])
            speed[pair] = len(items) / (time.perf_counter() - t0)

    print()
    trained = "shipped recipe" if args.without_helpful else "trained with helpful answers"
    print(f"| judge (cascade), {trained} | JADE medium macro-F1 (grouped CV) | COLD dev macro-F1 | helpful answers not risky | responses/s |")
    print("|---|---|---|---|---|")
    for pair, name in ((False, "response-only (shipped design)"), (True, "pair (`--pair`)")):
        s = scores[pair]
        print(f"| {name} | {np.mean(s['jade']):.4f} | {s['cold_dev'][0]:.4f} | {np.mean(s['helpful']):.4f} | {speed[pair]:.0f} |")
    gain = np.mean(scores[True]["jade"]) - np.mean(scores[False]["jade"])
    print(f"headline: {trained}, pair features JADE macro-F1 {np.mean(scores[True]['jade']):.3f} "
          f"vs response-only {np.mean(scores[False]['jade']):.3f} ({gain:+.3f}); cascade {speed[True]:.0f} vs {speed[False]:.0f} resp/s")


if __name__ == "__main__":
    main()
