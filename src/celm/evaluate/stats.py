"""Interval estimates for shares, and paired comparisons.

The bootstrap of a share of n Bernoulli outcomes resamples n outcomes with replacement; the number
of successes in such a resample is exactly Binomial(n, p_hat). We draw that directly, which gives
the same distribution as resampling rows at a fraction of the cost.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

N_BOOT = 2000
LEVEL = 0.95


@dataclass(frozen=True)
class Share:
    value: float
    low: float
    high: float
    n: int
    count: int

    def to_dict(self) -> dict:
        return {"value": round(self.value, 4), "low": round(self.low, 4), "high": round(self.high, 4), "n": self.n, "count": self.count}

    def fmt(self, pct: bool = True) -> str:
        if self.n == 0:
            return "–"
        if pct:
            return f"{self.value * 100:.1f}% [{self.low * 100:.1f}, {self.high * 100:.1f}]"
        return f"{self.value:.3f} [{self.low:.3f}, {self.high:.3f}]"


def share(flags, *, n_boot: int = N_BOOT, seed: int = 0, level: float = LEVEL) -> Share:
    """A share with its bootstrap percentile interval."""
    flags = np.asarray(flags, dtype=bool)
    n = int(flags.size)
    if n == 0:
        return Share(float("nan"), float("nan"), float("nan"), 0, 0)
    k = int(flags.sum())
    p = k / n
    draws = np.random.default_rng(seed).binomial(n, p, n_boot) / n
    a = (1 - level) / 2
    return Share(p, float(np.quantile(draws, a)), float(np.quantile(draws, 1 - a)), n, k)


@dataclass(frozen=True)
class PairedDiff:
    """B minus A on the same items (e.g. with norms minus without)."""

    diff: float
    low: float
    high: float
    n: int
    a_only: int  # items safe under A only
    b_only: int  # items safe under B only
    p_value: float  # exact McNemar

    @property
    def significant(self) -> bool:
        return self.p_value < 0.05

    def to_dict(self) -> dict:
        return {"diff": round(self.diff, 4), "low": round(self.low, 4), "high": round(self.high, 4), "n": self.n,
                "a_only": self.a_only, "b_only": self.b_only, "p_value": round(self.p_value, 5)}


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value from the discordant counts."""
    from scipy.stats import binomtest

    n = b + c
    return 1.0 if n == 0 else float(binomtest(b, n, 0.5).pvalue)


def paired_difference(a, b, *, n_boot: int = N_BOOT, seed: int = 0, level: float = LEVEL) -> PairedDiff:
    """Difference in share (b - a) with a paired bootstrap interval (items resampled together)."""
    a = np.asarray(a, dtype=bool)
    b = np.asarray(b, dtype=bool)
    if a.shape != b.shape:
        raise ValueError("paired comparison needs the same items in both arms")
    n = a.size
    if n == 0:
        return PairedDiff(float("nan"), float("nan"), float("nan"), 0, 0, 0, 1.0)
    d = b.astype(int) - a.astype(int)
    # Only discordant items move the difference: resample the three kinds of item with a multinomial.
    counts = np.array([(d == -1).sum(), (d == 0).sum(), (d == 1).sum()])
    draws = np.random.default_rng(seed).multinomial(n, counts / n, n_boot)
    boot = (draws[:, 2] - draws[:, 0]) / n
    q = (1 - level) / 2
    return PairedDiff(float(d.mean()), float(np.quantile(boot, q)), float(np.quantile(boot, 1 - q)), n,
                      int(counts[0]), int(counts[2]), mcnemar_exact(int(counts[0]), int(counts[2])))


def difference_unpaired(a, b, *, n_boot: int = N_BOOT, seed: int = 0, level: float = LEVEL) -> tuple[float, float, float, bool]:
    """Difference of two independent shares (b - a) with a bootstrap interval and a 'significant' flag."""
    a = np.asarray(a, dtype=bool)
    b = np.asarray(b, dtype=bool)
    rng = np.random.default_rng(seed)
    da = rng.binomial(a.size, a.mean(), n_boot) / max(a.size, 1)
    db = rng.binomial(b.size, b.mean(), n_boot) / max(b.size, 1)
    q = (1 - level) / 2
    lo, hi = float(np.quantile(db - da, q)), float(np.quantile(db - da, 1 - q))
    return float(b.mean() - a.mean()), lo, hi, not (lo <= 0 <= hi)
