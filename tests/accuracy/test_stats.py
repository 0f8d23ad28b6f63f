"""The paired score interval and the bootstrap ratio (accuracy.stats)."""

import numpy as np
import pytest

from accuracy import stats


def test_paired_score_interval_matches_the_bootstrap_when_pairs_change():
    rng = np.random.default_rng(0)
    a = rng.random(4000) < 0.9
    b = a.copy()
    flip = rng.random(a.size) < 0.04
    b[flip] = ~b[flip]
    d, lo, hi = stats.paired_score_interval(a, b)
    bd, blo, bhi = stats.paired_bootstrap(a, b)
    assert d == pytest.approx(bd) and lo == pytest.approx(blo, abs=0.002) and hi == pytest.approx(bhi, abs=0.002)


def test_paired_score_interval_is_honest_without_discordant_pairs():
    """The bootstrap gives [0, 0] when nothing changes; the score interval shrinks with n."""
    widths = []
    for n in (10, 100, 1000, 10000):
        a = np.arange(n) % 10 != 0
        d, lo, hi = stats.paired_score_interval(a, a)
        assert d == 0 and lo < 0 < hi and lo == pytest.approx(-hi)
        widths.append(hi)
        assert stats.paired_bootstrap(a, a)[1:] == (0.0, 0.0)
    assert widths == sorted(widths, reverse=True) and widths[0] > 0.05 and widths[-1] < 0.001
    ones = np.ones(100, bool)
    assert stats.paired_score_interval(ones, ones)[2] == pytest.approx(1 - stats.wilson(100, 100)[0])
    assert np.isnan(stats.paired_score_interval([], [])[0])


def test_bootstrap_ratio():
    ratio, lo, hi = stats.bootstrap_ratio([1, 2, 3, 4], [2, 4, 6, 8])
    assert (ratio, lo, hi) == (0.5, 0.5, 0.5)
    rng = np.random.default_rng(1)
    num, den = rng.random(500), rng.random(500) + 0.5
    ratio, lo, hi = stats.bootstrap_ratio(num, den)
    assert lo < ratio < hi and ratio == pytest.approx(num.sum() / den.sum())
    assert np.isnan(stats.bootstrap_ratio([], [])[0]) and np.isnan(stats.bootstrap_ratio([1], [0])[0])
