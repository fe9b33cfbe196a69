"""Training the four-verdict pair judge (``celm judge train --kind fourway``).

Sources differ in size and in the verdicts they carry (COLD comments and JADE answers say only risk
or not; the labelled real responses carry all four), so each source is re-weighted to count (the
same rule as the first judge, :func:`celm.judge.training.common.source_weights`), and a verdict a source never
uses is simply never its target. The lexical model is fitted first; the semantic model learns from the
lexical model's out-of-fold probabilities, so it learns how far to trust it on unseen requests. The
cascade bound is then chosen on held-out requests, and both models are refitted on everything.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence

import numpy as np

from celm.data.records import SAFETY_LABELS, JudgeExample
from celm.judge.features.ngrams import fit_idf as _idf, tfidf as _tfidf
from celm.judge.models.fourway import DEFAULT_FEATURES, FEATURES, N_HASH, REQUEST_SALT, FourWayJudgeModel, hashed_counts, response_counts, semantic_features
from celm.judge.training.common import Recipe, TrainReport, source_weights, stable_subset

#: the semantic network: one hidden layer of this width, L2 penalty ``alpha`` (chosen by grouped
#: cross-validation on the labelled real responses, docs/benchmarks.md)
HIDDEN, ALPHA = 64, 0.1

#: the request block's weight relative to the response block (what was asked matters, but less than
#: what was answered)
REQUEST_WEIGHT = 0.5
#: the cascade bound is searched on this grid; 1.0 means "always run the semantic model"
CONFIDENT_GRID = (0.6, 0.7, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.98, 0.99, 1.0)


def _counts(texts: Sequence[str], salt: int = 0, rows=None):
    import scipy.sparse as sp

    rows = rows if rows is not None else [hashed_counts(t, salt) for t in texts]
    indptr = np.cumsum([0] + [len(ids) for ids, _ in rows])
    indices = np.concatenate([ids for ids, _ in rows]) if rows else np.zeros(0, dtype=np.int64)
    data = np.concatenate([c for _, c in rows]) if rows else np.zeros(0)
    return sp.csr_matrix((data.astype(np.float32), indices, indptr), shape=(len(texts), N_HASH))


class _Lexical:
    """The lexical design matrix for a set of examples, with IDF fitted on some of them."""

    def __init__(self, requests, responses, harm: np.ndarray, features: int = FEATURES):
        from celm.judge.models.fourway import pair_dense

        self.resp_counts = _counts(responses, rows=[response_counts(q, a, features) for q, a in zip(requests, responses)])
        self.req_counts = _counts(requests, REQUEST_SALT)
        self.dense = pair_dense(requests, responses, harm, features)

    def matrix(self, idf_resp, idf_req):
        import scipy.sparse as sp

        return sp.hstack([_tfidf(self.resp_counts, idf_resp), REQUEST_WEIGHT * _tfidf(self.req_counts, idf_req),
                          sp.csr_matrix(self.dense)]).tocsr()


def _full_rows(model) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients for all four verdicts; one a model never saw gets a very low intercept."""
    coef = np.zeros((len(SAFETY_LABELS), model.coef_.shape[1]), dtype=np.float32)
    intercept = np.full(len(SAFETY_LABELS), -30.0, dtype=np.float32)
    for row, cls in enumerate(model.classes_):
        coef[cls] = model.coef_[row]
        intercept[cls] = model.intercept_[row]
    return coef, intercept


def _probs(coef, intercept, X) -> np.ndarray:
    z = np.asarray(X @ coef.T) + intercept
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def train_request_model(pool: Sequence[tuple[str, bool]], C: float = 4.0) -> tuple[np.ndarray, np.ndarray, float]:
    """(request IDF, coefficients, intercept) of a logistic model of "this request is harmful",
    from prompts known to be harmful (red-teaming sets) or not (ordinary instructions, benign controls)."""
    from sklearn.linear_model import LogisticRegression

    texts = [t for t, _ in pool]
    y = np.array([bool(h) for _, h in pool], dtype=int)
    counts = _counts(texts, REQUEST_SALT)
    idf = _idf(counts)
    # each class weighs as much as the other, whatever the pools' sizes
    weights = np.where(y == 1, len(y) / (2 * max(y.sum(), 1)), len(y) / (2 * max((1 - y).sum(), 1)))
    m = LogisticRegression(C=C, max_iter=3000).fit(_tfidf(counts, idf), y, sample_weight=weights)
    return idf, m.coef_[0].astype(np.float32), float(m.intercept_[0])


def recipe_weights(examples: Sequence[JudgeExample]) -> tuple[np.ndarray, np.ndarray]:
    """(weight per example, which examples are labelled model responses).

    Labelled model responses (the sources that use the ``irrelevant`` verdict, e.g. celm-responses)
    are what the judge meets in use; the other sources (COLD comments, JADE answers: risk or not)
    teach words and style. Each source first gets :func:`source_weights`' share; then the labelled
    responses together weigh as much as the biggest source, so thousands of comments cannot outvote
    them, and the cascade bound is chosen on them alone."""
    sources = np.array([e.provenance.source for e in examples])
    weights = source_weights(list(sources))
    four_verdict = {e.provenance.source for e in examples if e.label == "irrelevant"}
    primary = np.isin(sources, sorted(four_verdict))
    if primary.any() and not primary.all():
        biggest = max(weights[sources == s].sum() for s in set(sources.tolist()))
        weights[primary] *= max(1.0, biggest / weights[primary].sum())
    return weights, primary


def train_fourway(examples: Sequence[JudgeExample], *, request_pool: Sequence[tuple[str, bool]] = (), seed: int = 0,
                  embeddings: bool = True, C_lexical: float = 4.0, val_fraction: float = 0.15,
                  embed_per_source: int = 6000, features: int = DEFAULT_FEATURES,
                  progress=print) -> tuple[FourWayJudgeModel, TrainReport]:
    """Train the four-verdict judge on labelled pairs; ``request_pool`` holds (prompt, is harmful)
    pairs for the request-harm model (without it, every request counts as 0.5 harmful); ``features``
    is the feature set (:data:`celm.judge.models.fourway.FEATURES`; default that of the shipped weights)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupShuffleSplit

    t0 = time.time()
    y = np.array([SAFETY_LABELS.index(e.label) for e in examples])
    if len(set(y.tolist())) < 2:
        raise ValueError("training needs at least two verdicts")
    requests = [e.instruction for e in examples]
    responses = [e.response for e in examples]
    sources = np.array([e.provenance.source for e in examples])
    groups = np.array([e.instruction.strip() or e.id for e in examples])
    weights, primary = recipe_weights(examples)
    req_idf = req_coef = None
    req_intercept = 0.0
    harm = np.full(len(examples), 0.5)
    if request_pool:
        progress(f"request model on {len(request_pool)} prompts")
        req_idf, req_coef, req_intercept = train_request_model(request_pool)
        probe = FourWayJudgeModel(idf_response=req_idf, idf_request=req_idf, request_weight=0, lex_coef=np.zeros((4, 1)),
                                  lex_intercept=np.zeros(4), req_coef=req_coef, req_intercept=req_intercept)
        harm = probe.request_harm(requests)
    progress(f"lexical features for {len(examples)} pairs")
    lex = _Lexical(requests, responses, harm, features)

    def fit_lexical(idx):
        idf_resp = _idf(lex.resp_counts[idx])
        idf_req = req_idf if req_idf is not None else _idf(lex.req_counts[idx])
        X = lex.matrix(idf_resp, idf_req)
        m = LogisticRegression(C=C_lexical, max_iter=3000).fit(X[idx], y[idx], sample_weight=weights[idx])
        coef, intercept = _full_rows(m)
        return idf_resp, idf_req, coef, intercept, X

    everything = np.arange(len(examples))
    validation: dict = {}
    sem = None
    confident = 1.0
    if embeddings:
        # the held-out split serves the semantic model and the cascade bound; the lexical model alone
        # needs only the final fit
        train_idx, val_idx = next(GroupShuffleSplit(n_splits=1, test_size=val_fraction, random_state=seed)
                                  .split(responses, y, groups))
        progress(f"lexical model: {len(train_idx)} training, {len(val_idx)} held-out pairs")
        _, _, coef, intercept, X = fit_lexical(train_idx)
        p_val = _probs(coef, intercept, X[val_idx])
        validation["lexical_accuracy"] = round(float((p_val.argmax(1) == y[val_idx]).mean()), 4)
        pick = stable_subset(everything, sources, examples, embed_per_source)
        progress(f"semantic model: embedding {len(pick)} pairs (cached on disk)")
        S = semantic_features([requests[i] for i in pick], [responses[i] for i in pick], lex.dense[pick])
        in_train = np.isin(pick, train_idx)
        # the cascade bound is chosen on held-out labelled responses (on every held-out pair if none)
        held = ~in_train & (primary[pick] if primary[pick][~in_train].any() else True)
        if held.any():
            net = _fit_network(S[in_train], y[pick][in_train], seed, weights[pick][in_train])
            sem_held = _network_probs(net, S[held])
            lex_held = _probs(coef, intercept, X[pick[held]])
            y_held = y[pick][held]
            validation["semantic_accuracy"] = round(float((sem_held.argmax(1) == y_held).mean()), 4)
            confident = _cascade_bound(lex_held, sem_held, y_held)
            use = lex_held.max(1) < confident
            casc = np.where(use, sem_held.argmax(1), lex_held.argmax(1))
            validation.update(cascade_accuracy=round(float((casc == y_held).mean()), 4),
                              share_semantic=round(float(use.mean()), 4), confident=confident)
        progress("refitting the semantic model on every pair")
        sem = _network_arrays(_fit_network(S, y[pick], seed, weights[pick]))

    progress("refitting the lexical model on every pair")
    idf_resp, idf_req, coef, intercept, _ = fit_lexical(everything)
    w1, b1, w2, b2 = sem if sem is not None else (None,) * 4
    model = FourWayJudgeModel(idf_response=idf_resp, idf_request=idf_req, request_weight=REQUEST_WEIGHT,
                              lex_coef=coef, lex_intercept=intercept, sem_w1=w1, sem_b1=b1, sem_w2=w2, sem_b2=b2,
                              confident=confident, req_coef=req_coef, req_intercept=req_intercept, features=features)
    report = TrainReport(counts={"examples": len(examples), "by_source": dict(Counter(sources.tolist())),
                                 "by_label": dict(Counter(e.label for e in examples))},
                         validation=validation, thresholds={"confident": confident}, seconds=round(time.time() - t0, 1))
    model.card = {"counts": report.counts, "validation": validation}
    return model, report


def _fit_network(X: np.ndarray, y: np.ndarray, seed: int, weights: np.ndarray | None = None):
    from sklearn.neural_network import MLPClassifier

    w = None if weights is None else weights * (len(weights) / weights.sum())  # mean 1: alpha keeps its meaning
    return MLPClassifier((HIDDEN,), alpha=ALPHA, max_iter=600, random_state=seed).fit(X, y, sample_weight=w)


def _network_arrays(net) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(W1, b1, W2, b2) with an output column for every verdict (one the data never had gets -30)."""
    w1, w2 = net.coefs_
    b1, b2 = net.intercepts_
    W2 = np.zeros((w2.shape[0], len(SAFETY_LABELS)), dtype=np.float32)
    B2 = np.full(len(SAFETY_LABELS), -30.0, dtype=np.float32)
    if len(net.classes_) == 2:  # scikit-learn keeps one logistic output for two classes
        W2[:, net.classes_[1]], B2[net.classes_[1]] = w2[:, 0], b2[0]
        B2[net.classes_[0]] = 0.0
    else:
        for col, cls in enumerate(net.classes_):
            W2[:, cls], B2[cls] = w2[:, col], b2[col]
    return w1.astype(np.float32), b1.astype(np.float32), W2, B2


def _network_probs(net, X: np.ndarray) -> np.ndarray:
    w1, b1, w2, b2 = _network_arrays(net)
    z = np.maximum(X @ w1 + b1, 0) @ w2 + b2
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _cascade_bound(lex: np.ndarray, sem: np.ndarray, y: np.ndarray) -> float:
    """The lowest bound at which trusting the lexical model above it costs no held-out accuracy:
    among pairs the lexical model is that sure of, it is right at least as often as the semantic one."""
    for t in CONFIDENT_GRID:
        sure = lex.max(1) >= t
        if not sure.any() or (lex[sure].argmax(1) == y[sure]).sum() >= (sem[sure].argmax(1) == y[sure]).sum():
            return float(t)
    return 1.0


#: prompt sets whose every prompt is a harmful request (red-teaming sets) ...
HARMFUL_PROMPT_SOURCES = ("celm-bench", "jade-v1", "jade-v2-easy", "jade-v2-medium", "jade-v3", "flames", "xsafety")
#: ... and sets of ordinary or benign-but-sensitive requests
BENIGN_PROMPT_SOURCES = ("alpaca-zh-demo", "dpo-zh-demo", "cvalues")


def default_request_pool(exclude: set[str] = frozenset(), exclude_sources: set[str] = frozenset()) -> list[tuple[str, bool]]:
    """(prompt, is harmful) from the public sets and celm-bench, by each item's own kind where it has
    one (celm-bench's benign controls, XSafety's commonsense file). Prompts in ``exclude`` and every
    prompt of the sources in ``exclude_sources`` are left out, so a benchmark can hold its evaluation
    prompts (or a whole prompt source) away from the request model."""
    from celm.data.records import EvalItem, PreferencePair, SFTExample
    from celm.data.sources import load_source

    pool: dict[str, bool] = {}
    for source in HARMFUL_PROMPT_SOURCES + BENIGN_PROMPT_SOURCES:
        if source in exclude_sources:
            continue
        try:
            records = load_source(source)
        except FileNotFoundError:  # a public set not on this machine: the pool is smaller, not wrong
            continue
        for r in records:
            if isinstance(r, EvalItem):
                text = r.prompt
                harmful = r.kind == "attack" and r.provenance.original_category != "commonsense"
                if source in BENIGN_PROMPT_SOURCES:
                    harmful = False
            elif isinstance(r, PreferencePair):
                text, harmful = r.instruction + ("\n" + r.input if r.input else ""), source in HARMFUL_PROMPT_SOURCES
            elif isinstance(r, SFTExample):
                text, harmful = (r.instruction + ("\n" + r.input if r.input else "")), False
            else:
                continue
            if text.strip() and text not in exclude:
                pool.setdefault(text, harmful)
    return sorted(pool.items())


def _train(examples: Sequence[JudgeExample], config, progress) -> tuple[FourWayJudgeModel, TrainReport]:
    pool = default_request_pool() if config.request_pool else ()
    return train_fourway(examples, request_pool=pool, seed=config.seed, embeddings=config.embeddings,
                         features=config.features, progress=progress)


RECIPE = Recipe(_train, flags=lambda config: f" --features {config.features}" if config.features != DEFAULT_FEATURES else "")
