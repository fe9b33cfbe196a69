"""Training the built-in judge from celm data (``celm judge train``).

Inputs are labelled responses (JudgeExample), preference pairs (chosen -> not risk, rejected -> risk)
and ratings joined with their responses (0-3 safe, 4-5 risk, 6 refusal, per appendix A.1). Sources
differ wildly in size (COLD has 25k comments, JADE 1k answers), which pulls a naive model towards the
big one; each source's examples are re-weighted so that every source counts, with a per-example cap.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from celm.data.convert import pairs_to_judge_examples
from celm.data.records import JudgeExample, LabelledResponse, PreferencePair, Rating, Record, Response, SFTExample
from celm.judge.builtin import CASCADE_BAND, BuiltinJudgeModel, stack_features
from celm.judge.features import count_matrix, fit_idf, tfidf
from celm.judge.ranks import rank_to_label
from celm.judge.refusal import detect_refusal
from celm.labels import final_rank


class LeakageError(ValueError):
    """Training data near-duplicates the evaluation set the judge will score."""


def ratings_to_judge_examples(ratings: Sequence[Rating], responses: Sequence[Response]) -> list[JudgeExample]:
    """One example per rated response: its ``final`` rank if any (the app's decision), else the senior's,
    else the annotators' by the app's rule (celm.labels.final_rank)."""
    by_item: dict[str, list[Rating]] = {}
    for r in ratings:
        if r.score is not None:  # a label task's ratings carry verdicts, not ranks
            by_item.setdefault(r.item_id, []).append(r)
    texts = {r.id: r for r in responses}
    out = []
    for item_id, rs in by_item.items():
        final = [r.score for r in rs if r.role == "final"]
        senior = [r.score for r in rs if r.role == "senior"]
        score = final[-1] if final else senior[-1] if senior else final_rank([r.score for r in rs if r.role == "annotator"])
        if score is None or item_id not in texts:
            continue
        resp = texts[item_id]
        # one reading of the 0-6 scale (celm.judge.ranks): rank 6 is risk when the response answers,
        # reject when it refuses an answerable question
        label = rank_to_label(score, detect_refusal(resp.response).refusal)
        out.append(JudgeExample(id=f"rated-{item_id}", instruction=resp.prompt, response=resp.response, label=label,
                                scenario=resp.scenario, provenance=resp.provenance))
    return out


def sft_to_judge_examples(examples: Sequence[SFTExample]) -> list[JudgeExample]:
    """An SFT response is by definition one to imitate: a safe (non-risky) example. Ordinary helpful
    answers teach the judge that a plain on-topic reply is not a risk, which safety data alone does not."""
    return [JudgeExample(id=f"{e.id}-output", instruction=e.instruction, response=e.output, label="safe",
                         scenario=e.scenario, provenance=e.provenance) for e in examples]


def without_batches(records: Sequence[Record], batches: Sequence[str]) -> list[Record]:
    """The records outside the given labelling batches (``provenance.details["batch"]`` of
    celm-responses): a batch held out of training is what measures the judge on models it never saw."""
    drop = set(batches)
    return [r for r in records if (r.provenance.details or {}).get("batch") not in drop] if drop else list(records)


def to_judge_examples(records: Sequence[Record]) -> list[JudgeExample]:
    examples: list[JudgeExample] = [r for r in records if isinstance(r, JudgeExample)]
    examples += pairs_to_judge_examples([r for r in records if isinstance(r, PreferencePair)])
    examples += sft_to_judge_examples([r for r in records if isinstance(r, SFTExample)])
    examples += [JudgeExample(id=r.id, instruction=r.instruction, response=r.response, label=r.label, scenario=r.scenario,
                              provenance=r.provenance) for r in records if isinstance(r, LabelledResponse)]
    ratings = [r for r in records if isinstance(r, Rating)]
    if ratings:
        examples += ratings_to_judge_examples(ratings, [r for r in records if isinstance(r, Response)])
    return examples


def check_leakage(examples: Sequence[JudgeExample], eval_prompts: Sequence[str], *, threshold: float = 0.7) -> list[tuple[str, str, float]]:
    """(example id, eval prompt, similarity) for training instructions that near-duplicate eval prompts."""
    from celm.data.overlap import find_overlaps

    with_instr = [e for e in examples if e.instruction.strip()]
    hits = find_overlaps([e.instruction for e in with_instr], eval_prompts, threshold=threshold)
    return [(with_instr[h.query_index].id, eval_prompts[h.reference_index], h.similarity) for h in hits]


@dataclass
class TrainReport:
    counts: dict
    validation: dict
    thresholds: dict
    seconds: float


def source_weights(sources: Sequence[str], cap: float = 10.0) -> np.ndarray:
    counts = Counter(sources)
    biggest = max(counts.values())
    # Every source gets the weight of a quarter of the biggest, within a per-example cap.
    per = {s: min(cap, max(1.0, biggest / 4 / n)) for s, n in counts.items()}
    return np.array([per[s] for s in sources])


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
                  pair: bool = False, progress=print) -> tuple[BuiltinJudgeModel, TrainReport]:
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
        from celm.judge.embeddings import embed_heads

        pick = _stable_subset(train_idx, sources, examples, embed_per_source)
        val_idx = _stable_subset(val_idx, sources, examples, max(embed_per_source // 3, 1))
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

    model = BuiltinJudgeModel(
        idf=idf, coef=lr.coef_[0].astype(np.float32), intercept=float(lr.intercept_[0]), platt=(a, b), threshold_fast=t_fast,
        full_coef=full.coef_[0].astype(np.float32) if full is not None else None,
        full_intercept=float(full.intercept_[0]) if full is not None else 0.0, threshold_full=t_full, pair=pair)
    report = TrainReport(
        counts={"examples": len(examples), "by_source": dict(Counter(sources.tolist())),
                "by_label": dict(Counter(e.label for e in examples))},
        validation=validation, thresholds={"fast": t_fast, "full": t_full}, seconds=round(time.time() - t_start, 1),
    )
    return model, report


def _stable_subset(idx: np.ndarray, sources: np.ndarray, examples, per_source: int) -> np.ndarray:
    """Up to ``per_source`` indices per source, chosen by a hash of the example id: the same examples
    every time (so their embeddings come from the disk cache), independent of the order of the data."""
    import hashlib

    keep = []
    for s in np.unique(sources[idx]):
        members = idx[sources[idx] == s]
        ranked = sorted(members, key=lambda i: hashlib.sha1(examples[i].id.encode()).hexdigest())
        keep.extend(ranked[:per_source])
    return np.sort(np.array(keep, dtype=int))


def _per_source(y, pred, sources) -> dict:
    out = {"all": round(_macro_f1(y, pred), 4)}
    for s in np.unique(sources):
        m = sources == s
        out[str(s)] = round(_macro_f1(y[m], pred[m]), 4)
    return out
