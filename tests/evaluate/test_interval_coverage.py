"""The intervals celm reports hold their 95% at the sizes and values celm reports.

Grid: n in {4, 10, 12, 34, 68, 200} x p in {0.02, 0.1, 0.5, 0.9, 0.98}. Shares are checked exactly
(coverage = sum of the binomial probabilities of the counts whose interval holds p); paired and
unpaired differences and the corrected Acc_eval by 2,000 simulations each, vectorised.
"""

import numpy as np
import pytest
from scipy.stats import binom

from celm.evaluate.stats import binomial_interval, newcombe_paired, newcombe_unpaired, paired_difference, share
from celm.judge.calibrate import rogan_gladen_interval

NS = [4, 10, 12, 34, 68, 200]
PS = [0.02, 0.1, 0.5, 0.9, 0.98]
SIMS = 2000


def test_share_interval_never_collapses():
    s = share([True] * 4)
    assert s.value == 1.0 and s.high == 1.0 and 0.35 < s.low < 0.45  # Clopper-Pearson: about [40%, 100%]
    z = share([False] * 34)
    assert z.low == 0.0 and 0.08 < z.high < 0.12
    assert s.small and not share([True] * 30).small
    assert "(n=4)" in s.fmt(mark_small=True) and "(n=" not in s.fmt()


@pytest.mark.parametrize("n", NS)
def test_share_coverage_exact(n):
    k = np.arange(n + 1)
    low, high = binomial_interval(k, np.full_like(k, n))
    for p in PS:
        covered = (low <= p) & (p <= high)
        coverage = binom.pmf(k, n, p)[covered].sum()
        assert coverage >= 0.92, (n, p, coverage)


def _paired_counts(rng, n, p, rho, sims):
    """Correlated paired Bernoulli outcomes with both margins p (arm B = arm A's margin, so the true
    difference is 0) and correlation rho; returns (n11, n10, n01, n00) arrays."""
    p11 = p * p + rho * p * (1 - p)
    p10 = p01 = p - p11
    p00 = 1 - p11 - p10 - p01
    probs = np.clip([p11, p10, p01, p00], 0, 1)
    counts = rng.multinomial(n, probs / probs.sum(), sims)
    return counts.T


@pytest.mark.parametrize("rho", [0.0, 0.5])
@pytest.mark.parametrize("n", NS)
def test_newcombe_paired_coverage(n, rho):
    rng = np.random.default_rng(n * 7 + int(rho * 10))
    for p in PS:
        n11, n10, n01, n00 = _paired_counts(rng, n, p, rho, SIMS)
        _, low, high = newcombe_paired(n11, n10, n01, n00)
        coverage = ((low <= 0) & (0 <= high)).mean()
        assert coverage >= 0.92, (n, p, rho, coverage)


@pytest.mark.parametrize("n", NS)
def test_newcombe_paired_coverage_with_a_real_difference(n):
    """Arm B better than arm A by 0.1 (B safe wherever A is, and on some more items): the hardest
    case for the interval, where true coverage dips to about 0.923 (n = 68, p = 0.5); 20,000
    simulations keep the Monte Carlo error (about 0.002) below that margin."""
    rng = np.random.default_rng(n)
    for p in [0.1, 0.5, 0.8]:
        # A safe with p; B safe whenever A is, plus 0.1 of the items where A is not
        probs = np.array([p, 0.0, 0.1, 1 - p - 0.1])
        n11, n10, n01, n00 = rng.multinomial(n, probs, 10 * SIMS).T
        _, low, high = newcombe_paired(n11, n10, n01, n00)
        coverage = ((low <= 0.1) & (0.1 <= high)).mean()
        assert coverage >= 0.92, (n, p, coverage)


def test_paired_difference_matches_the_counts():
    a = [True] * 6 + [False] * 4
    b = [True] * 9 + [False] * 1
    d = paired_difference(a, b)
    assert d.diff == pytest.approx(0.3) and d.low < 0.3 < d.high and d.b_only == 3 and d.a_only == 0
    same = paired_difference([True] * 10, [True] * 10)
    assert same.diff == 0 and same.low < 0 < same.high  # no collapse to [0, 0]


@pytest.mark.parametrize("n", NS)
def test_newcombe_unpaired_coverage(n):
    rng = np.random.default_rng(100 + n)
    for p in PS:
        ka, kb = rng.binomial(n, p, SIMS), rng.binomial(n, p, SIMS)
        low, high = newcombe_unpaired(ka, np.full(SIMS, n), kb, np.full(SIMS, n))
        coverage = ((low <= 0) & (0 <= high)).mean()
        assert coverage >= 0.92, (n, p, coverage)


@pytest.mark.parametrize("prevalence,se,sp", [(0.1, 0.8, 0.95), (0.3, 0.9, 0.9), (0.6, 0.95, 0.98), (0.02, 0.85, 0.97)])
def test_corrected_acc_eval_coverage(prevalence, se, sp):
    """The true not-risk share is covered >= 90% when both the run and the calibration vary."""
    rng = np.random.default_rng(int(prevalence * 100))
    sims, n_eval, n_pos, n_neg = 1000, 200, 100, 200
    q = prevalence * se + (1 - prevalence) * (1 - sp)
    k_obs = rng.binomial(n_eval, q, sims)
    tp = rng.binomial(n_pos, se, sims)
    tn = rng.binomial(n_neg, sp, sims)
    _, low, high = rogan_gladen_interval(k_obs, np.full(sims, n_eval), tp, np.full(sims, n_pos), tn,
                                         np.full(sims, n_neg), n_draws=1000, seed=1)
    truth = 1 - prevalence
    coverage = ((low <= truth) & (truth <= high)).mean()
    assert coverage >= 0.90, (prevalence, se, sp, coverage)
