"""Training the probe judge (``celm judge train --kind probe``): a multinomial logistic regression
over a chat model's hidden states of labelled (request, response) pairs.

The regularisation strength is chosen by cross-validation grouped by request (no request's responses
on both sides of a split) with scikit-learn's ``LogisticRegressionCV``, on the four verdicts' macro-F1
(the verdicts are what a run counts, and ``risk`` is a minority that must not be traded away for the
common ones); then the model is refitted on every pair. Only labelled pairs with a request are useful here: the probe reads the pair.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence

import numpy as np

from celm.data.records import SAFETY_LABELS, JudgeExample
from celm.judge.models.probe import PairEncoder, ProbeJudgeModel
from celm.judge.training.common import Recipe, TrainReport

DEFAULT_MODEL, DEFAULT_LAYER = "gguf:qwen2.5-coder-0.5b-instruct", 14
C_GRID = (0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2)


def _macro_f1(estimator, X, y) -> float:
    # a callable: scikit-learn's "f1_macro" string breaks LogisticRegressionCV on two classes (1.8)
    from sklearn.metrics import f1_score

    return float(f1_score(y, estimator.predict(X), average="macro"))


def fit_probe(states: np.ndarray, y: np.ndarray, groups: Sequence[str], *, folds: int = 5,
              seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    """(mean, scale, coef[4, hidden], intercept[4], C) fitted on standardised states."""
    import warnings

    from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
    from sklearn.model_selection import GroupKFold

    mean = states.mean(axis=0)
    scale = states.std(axis=0) + 1e-6
    X = (states - mean) / scale
    n_groups = len(set(groups))
    if n_groups >= 2 and len(set(y.tolist())) >= 2:
        splits = list(GroupKFold(n_splits=min(folds, n_groups)).split(X, y, groups))
        with warnings.catch_warnings():  # scikit-learn 1.8 announces changes to defaults this code does not use
            warnings.simplefilter("ignore", FutureWarning)
            C = float(LogisticRegressionCV(Cs=list(C_GRID), cv=splits, scoring=_macro_f1, max_iter=3000,
                                           random_state=seed).fit(X, y).C_[0])
    else:
        C = C_GRID[len(C_GRID) // 2]
    m = LogisticRegression(C=C, max_iter=3000, random_state=seed).fit(X, y)
    coef = np.zeros((len(SAFETY_LABELS), X.shape[1]), dtype=np.float32)
    intercept = np.full(len(SAFETY_LABELS), -30.0, dtype=np.float32)  # a verdict the data never had is never given
    if len(m.classes_) == 2:  # scikit-learn keeps one row for two classes
        coef[m.classes_[1]], intercept[m.classes_[1]] = m.coef_[0], m.intercept_[0]
        intercept[m.classes_[0]] = 0.0
    else:
        for row, cls in enumerate(m.classes_):
            coef[cls], intercept[cls] = m.coef_[row], m.intercept_[row]
    return mean.astype(np.float32), scale.astype(np.float32), coef, intercept, C


def train_probe(examples: Sequence[JudgeExample], *, model_spec: str = DEFAULT_MODEL, layer: int = DEFAULT_LAYER,
                device: str = "auto", batch_size: int = 8, seed: int = 0, progress=print) -> tuple[ProbeJudgeModel, TrainReport]:
    t0 = time.time()
    pairs = [e for e in examples if e.instruction.strip()]
    if len(pairs) < len(examples):
        progress(f"{len(examples) - len(pairs)} examples without a request left out (the probe reads the pair)")
    if len({e.label for e in pairs}) < 2:
        raise ValueError("training needs labelled (request, response) pairs with at least two verdicts")
    encoder = PairEncoder(model_spec, layer, device=device, batch_size=batch_size)
    progress(f"hidden states of layer {layer} of {model_spec} for {len(pairs)} pairs (cached on disk)")
    states = encoder.encode([e.instruction for e in pairs], [e.response for e in pairs],
                            progress=lambda done, total: progress(f"  {done}/{total}") if done % 80 < batch_size or done == total else None)
    y = np.array([SAFETY_LABELS.index(e.label) for e in pairs])
    mean, scale, coef, intercept, C = fit_probe(states, y, [e.instruction.strip() for e in pairs], seed=seed)
    model = ProbeJudgeModel(model_spec=model_spec, layer=layer, mean=mean, scale=scale, coef=coef, intercept=intercept)
    counts = {"examples": len(pairs), "by_source": dict(Counter(e.provenance.source for e in pairs)),
              "by_label": dict(Counter(e.label for e in pairs))}
    report = TrainReport(counts=counts, validation={"C": C}, thresholds={}, seconds=round(time.time() - t0, 1))
    model.card = {"counts": counts, "C": C}
    return model, report


def _train(examples: Sequence[JudgeExample], config, progress) -> tuple[ProbeJudgeModel, TrainReport]:
    return train_probe(examples, model_spec=config.probe_model, layer=config.layer, device=config.device, seed=config.seed,
                       progress=progress)


#: the card names the chat model and layer the probe reads
RECIPE = Recipe(_train, flags=lambda config: f" --probe-model {config.probe_model} --layer {config.layer}")
