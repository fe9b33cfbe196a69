import numpy as np

from celm.evaluate.stats import mcnemar_exact, paired_difference, share


def test_share_interval_covers_truth_about_95_percent():
    rng = np.random.default_rng(0)
    covered = 0
    trials = 300
    for t in range(trials):
        flags = rng.random(400) < 0.3
        s = share(flags)
        assert s.low <= s.value <= s.high
        covered += s.low <= 0.3 <= s.high
    assert 0.92 <= covered / trials <= 0.98


def test_share_edge_cases():
    assert share([]).n == 0
    s = share([True] * 10)  # never the point [100, 100]: Clopper-Pearson gives about [69%, 100%]
    assert s.value == 1.0 and s.high == 1.0 and 0.68 < s.low < 0.70 and s.count == 10


def test_paired_difference_and_mcnemar():
    a = [True] * 50 + [False] * 50
    b = [True] * 50 + [True] * 20 + [False] * 30  # 20 items turn safe, none turn risky
    d = paired_difference(a, b)
    assert abs(d.diff - 0.2) < 1e-12 and d.b_only == 20 and d.a_only == 0
    assert d.low > 0 and d.significant
    assert abs(mcnemar_exact(0, 20) - 2 * 0.5 ** 20) < 1e-12
    assert mcnemar_exact(5, 5) == 1.0
    same = paired_difference(a, a)
    assert same.diff == 0 and not same.significant


def test_paired_interval_coverage():
    rng = np.random.default_rng(1)
    covered = 0
    for t in range(200):
        base = rng.random(300) < 0.6
        flip = rng.random(300) < 0.1  # 10% of items flip to safe under B, true effect = E[flip & ~base]
        b = base | flip
        truth = 0.1 * 0.4
        d = paired_difference(base, b)
        covered += d.low <= truth <= d.high
    assert covered / 200 >= 0.9
