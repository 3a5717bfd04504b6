"""The interval helpers against known values (published Wilson intervals, Student's t tables) and
against the textbook formulas they replace where those are sound."""

from __future__ import annotations

import numpy as np
import pytest

from lstm_viz import stats
from lstm_viz.tasks import cue


@pytest.mark.parametrize(
    "k, n, lo, hi",
    [
        (0, 10, 0.0, 0.2775),  # the "rule of three"'s better-behaved cousin
        (10, 10, 0.7225, 1.0),
        (5, 10, 0.2366, 0.7634),
        (81, 263, 0.2553, 0.3662),  # Wilson 1927 / Newcombe 1998, method 3
        (1000, 1000, 0.9962, 1.0),  # what the cue models' metrics JSON records at 100%
        (998, 1000, 0.9927, 0.9995),  # the RNN's 99.8% at gap 200
    ],
)
def test_wilson_known_values(k, n, lo, hi):
    got = stats.wilson(k, n)
    assert got == pytest.approx((lo, hi), abs=1e-4)
    assert got == pytest.approx(cue.wilson(k, n), abs=1e-4)  # the task's copy (z = 1.96)


def test_wilson_contains_the_estimate_and_refuses_nonsense():
    for k, n in [(0, 1), (1, 1), (3, 7), (500, 5000)]:
        lo, hi = stats.wilson(k, n)
        assert 0 <= lo <= k / n <= hi <= 1
    with pytest.raises(ValueError, match="at least one"):
        stats.wilson(0, 0)
    with pytest.raises(ValueError, match="within 0..n"):
        stats.wilson(11, 10)


@pytest.mark.parametrize(
    "df, q",
    [(1, 12.7062), (2, 4.3027), (4, 2.7764), (5, 2.5706), (10, 2.2281), (30, 2.0423),
     (120, 1.9799)],
)  # fmt: skip
def test_t_quantile_matches_the_table(df, q):
    assert stats.t_quantile(df) == pytest.approx(q, abs=2e-4)


def test_t_interval_known_sample():
    # 1..10: mean 5.5, sd 3.02765, se 0.957427, t(9) = 2.262157 -> 5.5 +- 2.165852
    mean, lo, hi = stats.t_interval(np.arange(1, 11))
    assert mean == 5.5
    assert (lo, hi) == pytest.approx((3.334148, 7.665852), abs=1e-4)
    with pytest.raises(ValueError, match="at least 2"):
        stats.t_interval([1.0])


def test_bootstrap_is_seeded_close_to_t_for_a_mean_and_resamples_rows():
    v = np.random.default_rng(1).normal(size=400)
    est, lo, hi = stats.bootstrap_ci(v, n_boot=1000, seed=3)
    assert stats.bootstrap_ci(v, n_boot=1000, seed=3) == (est, lo, hi)  # same seed, same CI
    _, tlo, thi = stats.t_interval(v)
    assert est == pytest.approx(v.mean())
    assert lo == pytest.approx(tlo, abs=0.02) and hi == pytest.approx(thi, abs=0.02)
    assert stats.bootstrap_ci(np.full(20, 2.5), n_boot=50) == (2.5, 2.5, 2.5)
    # rows stay whole: a statistic of paired columns sees pairs, so x - y = 1 in every draw
    pairs = np.column_stack([np.arange(30.0) + 1, np.arange(30.0)])
    assert stats.bootstrap_ci(pairs, lambda r: float((r[:, 0] - r[:, 1]).mean()), 50)[1:] == (
        1.0,
        1.0,
    )


def test_spread_and_covers():
    s = stats.spread([3.0, 1.0, np.nan, 2.0, 10.0])
    assert s == {"n": 4, "median": 2.5, "min": 1.0, "max": 10.0}
    assert stats.covers(0.36, 0.40, 0.375) and not stats.covers(0.38, 0.40, 0.375)


def test_block_resamples_are_runs_of_consecutive_steps():
    assert [stats.block_length(n) for n in (2, 8, 9, 50, 520, 1000)] == [2, 2, 3, 4, 9, 10]
    idx = stats.block_resamples(50, 4, n_boot=30, seed=1)
    assert idx.shape == (30, 50) and idx.min() >= 0 and idx.max() <= 49
    runs = idx[:, :48].reshape(30, 12, 4)  # each run of 4 counts up by one
    assert (np.diff(runs, axis=2) == 1).all()
    np.testing.assert_array_equal(idx, stats.block_resamples(50, 4, n_boot=30, seed=1))
    # a block the length of the series leaves it whole: every resample is the series itself
    whole = stats.block_resamples(10, 10, n_boot=5)
    assert (whole == np.arange(10)).all()
    assert stats.block_bootstrap_ci(np.arange(10.0), block=10, n_boot=5) == (4.5, 4.5, 4.5)
    with pytest.raises(ValueError, match="block of 1..n"):
        stats.block_resamples(10, 11)


def test_block_bootstrap_covers_the_mean_of_an_ar1_series():
    # AR(1) with phi = 0.5: neighbouring steps are correlated, so resampling single steps
    # (block 1, the plain bootstrap) makes intervals too narrow; blocks of ceil(n^(1/3)) steps
    # keep the dependence and cover the true mean 0 near the nominal 95%
    rng, n, reps = np.random.default_rng(7), 300, 200
    hits = {"block": 0, "single": 0}
    for r in range(reps):
        e = rng.normal(size=n + 100)
        x = np.zeros(n + 100)
        for t in range(1, n + 100):
            x[t] = 0.5 * x[t - 1] + e[t]
        x = x[100:]
        for kind, block in (("block", stats.block_length(n)), ("single", 1)):
            lo, hi = stats.percentile_interval(x[stats.block_resamples(n, block, 400, r)].mean(1))
            hits[kind] += lo <= 0 <= hi
    assert hits["block"] / reps >= 0.85  # 0.895 measured
    assert hits["single"] / reps <= 0.78  # 0.71 measured: the dependence ignored
    # the general helper agrees with the index form
    est, lo, hi = stats.block_bootstrap_ci(x, block=7, n_boot=400, seed=3)
    assert est == pytest.approx(x.mean())
    assert (lo, hi) == stats.percentile_interval(x[stats.block_resamples(n, 7, 400, 3)].mean(1))
