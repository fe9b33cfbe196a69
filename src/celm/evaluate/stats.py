"""Interval estimates for shares and their differences, with known coverage at small n.

* A share (Acc_eval, Safe/Reject/Risk, over-refusal, per scenario) gets the exact
  **Clopper–Pearson** interval (statsmodels' ``proportion_confint(method="beta")``). Unlike a
  bootstrap percentile interval it never collapses to a point: 4/4 reads [40%, 100%], 0/34 reads
  [0%, 10%]. Why not Wilson: at n = 4 and p = 0.5 no interval that starts above 50% for 4/4 can
  cover more than 87.5% (Wilson gives 4/4 [51%, 100%]); Clopper–Pearson covers at least 95% at every
  n and p, at the price of a slightly wider interval (n = 200, p = 0.5: ±7.1 points against ±6.9).
* A paired difference (the norm ablation, table-4 gains, rounds of the loop) gets **Newcombe's
  hybrid score interval for paired proportions** (his method 10, 1998), which uses the Wilson
  intervals of both margins and the correlation between arms; the exact McNemar p-value stays.
* An unpaired difference (``report compare`` across runs) gets **Newcombe's hybrid score interval**
  for independent proportions (statsmodels' ``confint_proportions_2indep(method="newcomb")``).

tests/evaluate/test_interval_coverage.py checks coverage over n in {4..200} x p in {0.02..0.98}.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LEVEL = 0.95
#: Below this many items a share is shown with an "n=…" mark and scenarios are not ranked.
SMALL_N = 30


def binomial_interval(count, n, level: float = LEVEL, method: str = "beta"):
    """A share's interval(s), vectorised over numpy arrays; n == 0 gives (nan, nan).

    ``method``: ``beta`` (Clopper–Pearson, celm's default for shares) or ``wilson`` (score interval,
    used inside Newcombe's difference intervals).
    """
    from statsmodels.stats.proportion import proportion_confint

    count, n = np.asarray(count), np.asarray(n)
    safe_n = np.where(n > 0, n, 1)
    low, high = proportion_confint(count, safe_n, alpha=1 - level, method=method)
    low, high = np.clip(low, 0.0, 1.0), np.clip(high, 0.0, 1.0)
    return np.where(n > 0, low, np.nan), np.where(n > 0, high, np.nan)


@dataclass(frozen=True)
class Share:
    value: float
    low: float
    high: float
    n: int
    count: int

    def to_dict(self) -> dict:
        return {"value": round(self.value, 4), "low": round(self.low, 4), "high": round(self.high, 4), "n": self.n, "count": self.count}

    @property
    def small(self) -> bool:
        return 0 < self.n < SMALL_N

    def fmt(self, mark_small: bool = False) -> str:
        return format_share(self.to_dict(), mark_small=mark_small)


def _plain(d):
    """A share as a dict: metrics.json's content, or a typed share of an EvalLog (celm.evaluate.log.Share)."""
    return d.model_dump() if hasattr(d, "model_dump") else d


def format_share(d, *, mark_small: bool = True, width: int = 0) -> str:
    """The one way celm writes a share from metrics.json (a dict or a typed share): ``79.4% [69.1, 89.7]``,
    plus ``(n=4)`` when fewer than SMALL_N items stand behind it."""
    d = _plain(d)
    if not d or not d.get("n") or d.get("value") is None:  # None: no estimate (e.g. a calibration that does not fit)
        return "–"
    text = f"{d['value'] * 100:{width}.1f}% [{d['low'] * 100:.1f}, {d['high'] * 100:.1f}]"
    return f"{text} (n={d['n']})" if mark_small and d["n"] < SMALL_N else text


def format_difference(d: dict, *, significant_mark: str = "") -> str:
    """A difference in points with its interval: ``+23.5 [+15.4, +31.6]``."""
    return f"{d['diff'] * 100:+.1f} [{d['low'] * 100:+.1f}, {d['high'] * 100:+.1f}]{significant_mark}"


def distinguishable(shares: list[dict]) -> bool:
    """Whether a ranking of these shares says anything: the highest one's interval lies wholly
    above the lowest one's. With 4 items per scenario it almost never does."""
    shares = [_plain(d) for d in shares if d]
    shares = [d for d in shares if d.get("n")]
    if len(shares) < 2:
        return False
    top = max(shares, key=lambda d: d["value"])
    bottom = min(shares, key=lambda d: d["value"])
    return top["low"] > bottom["high"]


def share(flags, *, level: float = LEVEL) -> Share:
    """A share with its Clopper–Pearson interval."""
    flags = np.asarray(flags, dtype=bool)
    n = int(flags.size)
    if n == 0:
        return Share(float("nan"), float("nan"), float("nan"), 0, 0)
    k = int(flags.sum())
    low, high = binomial_interval(k, n, level)
    return Share(k / n, float(low), float(high), n, k)


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


def newcombe_paired(n11, n10, n01, n00, level: float = LEVEL):
    """Newcombe's hybrid score interval (method 10) for p_B - p_A on paired binary data.

    ``n10``: items a success under A only; ``n01``: under B only. Vectorised over arrays.
    """
    n11, n10, n01, n00 = (np.asarray(x, dtype=float) for x in (n11, n10, n01, n00))
    n = n11 + n10 + n01 + n00
    safe_n = np.where(n > 0, n, 1)
    pb, pa = (n11 + n01) / safe_n, (n11 + n10) / safe_n
    lb, ub = binomial_interval(n11 + n01, n, level, "wilson")
    la, ua = binomial_interval(n11 + n10, n, level, "wilson")
    margins = (n11 + n10) * (n01 + n00) * (n11 + n01) * (n10 + n00)
    # phi with Newcombe's adjustment of the cross-product (as in Altman et al., Statistics with
    # Confidence, 2000): shrunk by n/2 when positive, zero in between, unchanged when negative.
    cross = n11 * n00 - n10 * n01
    cross = np.where(cross > n / 2, cross - n / 2, np.where(cross < 0, cross, 0.0))
    phi = np.where(margins > 0, cross / np.sqrt(np.where(margins > 0, margins, 1)), 0.0)
    d = pb - pa
    lower = d - np.sqrt(np.maximum((pb - lb) ** 2 - 2 * phi * (pb - lb) * (ua - pa) + (ua - pa) ** 2, 0))
    upper = d + np.sqrt(np.maximum((ub - pb) ** 2 - 2 * phi * (ub - pb) * (pa - la) + (pa - la) ** 2, 0))
    return d, np.clip(lower, -1, 1), np.clip(upper, -1, 1)


def paired_difference(a, b, *, level: float = LEVEL) -> PairedDiff:
    """Difference in share (b - a) on the same items: Newcombe's paired interval, exact McNemar."""
    a = np.asarray(a, dtype=bool)
    b = np.asarray(b, dtype=bool)
    if a.shape != b.shape:
        raise ValueError("paired comparison needs the same items in both arms")
    n = a.size
    if n == 0:
        return PairedDiff(float("nan"), float("nan"), float("nan"), 0, 0, 0, 1.0)
    n11, n10, n01 = int((a & b).sum()), int((a & ~b).sum()), int((~a & b).sum())
    d, low, high = newcombe_paired(n11, n10, n01, n - n11 - n10 - n01, level)
    return PairedDiff(float(d), float(low), float(high), n, n10, n01, mcnemar_exact(n10, n01))


def newcombe_unpaired(count_a, n_a, count_b, n_b, level: float = LEVEL):
    """Newcombe's hybrid score interval for p_B - p_A from independent samples (vectorised)."""
    from statsmodels.stats.proportion import confint_proportions_2indep

    low, high = confint_proportions_2indep(count_b, n_b, count_a, n_a, method="newcomb", compare="diff", alpha=1 - level)
    return np.clip(low, -1, 1), np.clip(high, -1, 1)


def difference_unpaired(a, b, *, level: float = LEVEL) -> tuple[float, float, float, bool]:
    """Difference of two independent shares (b - a), Newcombe's interval, and 'interval excludes 0'."""
    a = np.asarray(a, dtype=bool)
    b = np.asarray(b, dtype=bool)
    if a.size == 0 or b.size == 0:
        return float("nan"), float("nan"), float("nan"), False
    low, high = newcombe_unpaired(int(a.sum()), a.size, int(b.sum()), b.size, level)
    low, high = float(low), float(high)
    return float(b.mean() - a.mean()), low, high, not (low <= 0 <= high)
