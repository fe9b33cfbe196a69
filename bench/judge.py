"""Benchmark: the built-in judge (issue: the safety judge).

Quality: macro-F1 (risk vs not risky) of the built-in judge's training recipe on
- COLD dev (the shipped weights never saw it), and
- JADE 3.0 medium responses, 5-fold cross-validation grouped by question (each fold trains the shipped
  recipe, pair features on, on COLD train + the other JADE folds + celm's bundled examples + the
  alpaca_zh_demo helpful answers),
against two baselines in the same run: a keyword/refusal-pattern judge, and a character 1-3-gram
TF-IDF + logistic regression trained on both sources without re-weighting.
Speed: responses/s of each mode on 2 cores (embedding cache off), and the time to load the weights.

Run: .venv/bin/python bench/judge.py [--folds 5]      The last line is the headline figure.
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


def judge_risk(judge, instructions, responses) -> np.ndarray:
    return np.array([j.label == "risk" for j in judge.judge_many(instructions, responses)])


def tfidf_baseline(train_texts, train_y):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True, min_df=2),
                         LogisticRegression(C=4, max_iter=2000)).fit(train_texts, train_y)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()

    from sklearn.model_selection import GroupKFold

    from celm.data.bundled import load_judge_examples
    from celm.data.convert import pairs_to_judge_examples
    from celm.data.sources import load_source
    from celm.judge import get_judge
    from celm.judge.models.builtin import BuiltinJudge, load_model
    from celm.judge.training.examples import sft_to_judge_examples
    from celm.judge.training.pair_v2 import train_builtin

    cold_train, cold_dev = load_source("cold-train"), load_source("cold-dev")
    pairs = load_source("jade-v3")
    bundled = load_judge_examples() + sft_to_judge_examples(load_source("alpaca-zh-demo"))
    dev_texts = [e.response for e in cold_dev]
    dev_y = np.array([e.label == "risk" for e in cold_dev])
    results: dict[str, dict[str, float]] = {}

    # -- shipped weights on COLD dev -------------------------------------------------------------
    t0 = time.perf_counter()
    model = load_model()
    load_s = time.perf_counter() - t0
    for mode in ("fast", "cascade", "full"):
        j = BuiltinJudge(mode=mode, model=model)
        results.setdefault(f"builtin-{mode}", {})["cold_dev"] = macro_f1(dev_y, judge_risk(j, [""] * len(dev_texts), dev_texts))
        print(f"COLD dev, shipped weights, {mode}: macro-F1 {results[f'builtin-{mode}']['cold_dev']:.4f}", flush=True)
    keyword = get_judge("keyword")
    results["keyword"] = {"cold_dev": macro_f1(dev_y, judge_risk(keyword, [""] * len(dev_texts), dev_texts))}

    # -- JADE medium, grouped k-fold ---------------------------------------------------------------
    jade_ex = pairs_to_judge_examples(pairs)
    groups = np.array([e.instruction for e in jade_ex])
    y_j = np.array([e.label == "risk" for e in jade_ex])
    fold_scores: dict[str, list[float]] = {}
    base_cold = []
    for k, (tr, te) in enumerate(GroupKFold(args.folds).split(jade_ex, y_j, groups)):
        train = cold_train + [jade_ex[i] for i in tr] + bundled
        m, _ = train_builtin(train, pair=True, progress=lambda *_: None)
        test_q = [jade_ex[i].instruction for i in te]
        test_r = [jade_ex[i].response for i in te]
        for mode in ("fast", "cascade", "full"):
            pred = judge_risk(BuiltinJudge(mode=mode, model=m), test_q, test_r)
            fold_scores.setdefault(f"builtin-{mode}", []).append(macro_f1(y_j[te], pred))
        fold_scores.setdefault("keyword", []).append(macro_f1(y_j[te], judge_risk(keyword, test_q, test_r)))
        base = tfidf_baseline([e.response for e in train], [e.label == "risk" for e in train])
        fold_scores.setdefault("tfidf-lr", []).append(macro_f1(y_j[te], base.predict(test_r)))
        base_cold.append(macro_f1(dev_y, base.predict(dev_texts)))
        print(f"fold {k + 1}/{args.folds}: " + ", ".join(f"{n} {v[-1]:.3f}" for n, v in fold_scores.items()), flush=True)
    for name, scores in fold_scores.items():
        results.setdefault(name, {})["jade_cv"] = float(np.mean(scores))
    results["tfidf-lr"]["cold_dev"] = float(np.mean(base_cold))

    # -- speed (embedding cache off: a fresh cache folder) ----------------------------------------
    speed = {}
    # COLD comments have no instruction; JADE answers come with their questions (the pair judge embeds both)
    sample = [("", t) for t in dev_texts[:1000]] + [(e.instruction, e.response) for e in jade_ex][:1000]
    for mode, n in (("fast", 2000), ("cascade", 400), ("full", 200)):
        with tempfile.TemporaryDirectory() as tmp:  # a fresh cache per mode: nothing embedded before
            os.environ["CELM_CACHE_DIR"] = tmp
            picked = sample[::max(1, len(sample) // n)][:n]
            BuiltinJudge(mode="full", model=model).judge_many(["热身"], ["热身"])  # load the embedding model first
            j = BuiltinJudge(mode=mode, model=model)
            t0 = time.perf_counter()
            j.judge_many([q for q, _ in picked], [r for _, r in picked])
            speed[mode] = len(picked) / (time.perf_counter() - t0)

    print()
    print("| judge | COLD dev macro-F1 | JADE medium macro-F1 (grouped CV) |")
    print("|---|---|---|")
    for name in ("builtin-cascade", "builtin-full", "builtin-fast", "tfidf-lr", "keyword"):
        r = results[name]
        print(f"| {name} | {r.get('cold_dev', float('nan')):.4f} | {r.get('jade_cv', float('nan')):.4f} |")
    print("speed (responses/s, 2 cores, no embedding cache): " + ", ".join(f"{k} {v:.0f}" for k, v in speed.items()))
    print(f"weights load: {load_s:.2f}s")
    c, b = results["builtin-cascade"], results["tfidf-lr"]
    print(f"headline: builtin judge macro-F1 COLD dev {c['cold_dev']:.3f} / JADE {c['jade_cv']:.3f} "
          f"(TF-IDF baseline {b['cold_dev']:.3f} / {b['jade_cv']:.3f}); fast mode {speed['fast']:.0f} resp/s, "
          f"cascade {speed['cascade']:.0f} resp/s")


if __name__ == "__main__":
    main()
