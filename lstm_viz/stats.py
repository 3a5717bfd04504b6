"""Small, dependency-free statistics for stating a measured number with its evidence.

Every number the README, the views and the lessons quote carries its sample size and a 95%
interval (issue 15): Wilson's score interval for a proportion (sound at 0% and 100%, where the
textbook p ± 1.96·se collapses to a point), a percentile bootstrap for anything else (means,
correlations, pooled ratios; resampling whole sequences when steps within one are not
independent), a moving-block bootstrap for a statistic over the steps of one series (whose
neighbouring steps are not independent either: resampling runs of `block` steps keeps their
dependence), and Student's t for a plain mean. `scripts/measure_claims.py` uses them to write
`lstm_viz/data/claims.json`; `lstm_viz.claims` reads and words that file.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Z95 = 1.959963984540054  # the standard normal's 97.5% quantile


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval (lo, hi) of the proportion k/n (95% by default)."""
    if n <= 0:
        raise ValueError(f"n={n}: an interval needs at least one sample")
    if not 0 <= k <= n:
        raise ValueError(f"k={k} successes out of n={n}: k must be within 0..n")
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    # at k = 0 (or n) the interval touches 0 (or 1) exactly; rounding must not leave it short
    lo = 0.0 if k == 0 else max(0.0, float(centre - half))
    hi = 1.0 if k == n else min(1.0, float(centre + half))
    return lo, hi


def t_quantile(df: int, z: float = Z95) -> float:
    """Student's t quantile matching the normal quantile `z` (97.5% by default), by the
    Cornish-Fisher expansion in 1/df (within 2e-4 of the exact value from df = 6 on; up to
    5, the exact 97.5% values)."""
    if df < 1:
        raise ValueError(f"df={df}: Student's t needs at least one degree of freedom")
    if df <= 5 and z == Z95:  # the expansion is poor this far out: the exact 97.5% quantiles
        return (12.706204736, 4.302652730, 3.182446305, 2.776445105, 2.570581836)[df - 1]
    g1 = (z**3 + z) / 4
    g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
    g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
    g4 = (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160
    return float(z + g1 / df + g2 / df**2 + g3 / df**3 + g4 / df**4)


def t_interval(values) -> tuple[float, float, float]:
    """(mean, lo, hi): the mean of `values` with its 95% Student's t interval."""
    v = np.asarray(values, dtype=float).ravel()
    if v.size < 2:
        raise ValueError(f"a t interval needs at least 2 values, got {v.size}")
    mean, se = float(v.mean()), float(v.std(ddof=1) / np.sqrt(v.size))
    q = t_quantile(v.size - 1)
    return mean, mean - q * se, mean + q * se


def bootstrap_ci(
    rows,
    statistic: Callable[[np.ndarray], float] = np.mean,
    n_boot: int = 2000,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[float, float, float]:
    """(estimate, lo, hi): `statistic(rows)` and its percentile bootstrap interval.

    `rows` is resampled along axis 0 with replacement, so a row must be one independent unit:
    a sequence's sufficient statistics, say, when the statistic pools steps that are not
    independent within a sequence. Seeded, so the same rows give the same interval.
    """
    data = np.asarray(rows)
    if data.shape[0] < 2:
        raise ValueError(f"a bootstrap needs at least 2 rows, got {data.shape[0]}")
    if not 0 < level < 1:
        raise ValueError(f"level={level}: give a coverage between 0 and 1, e.g. 0.95")
    rng = np.random.default_rng(seed)
    n = data.shape[0]
    draws = np.array([statistic(data[rng.integers(0, n, n)]) for _ in range(n_boot)])
    tail = (1 - level) / 2 * 100
    lo, hi = np.nanpercentile(draws, [tail, 100 - tail])
    return float(statistic(data)), float(lo), float(hi)


def block_length(n: int) -> int:
    """The moving-block bootstrap's block length for n steps: ceil(n^(1/3)), the order that
    suits variance and two-sided intervals (Hall, Horowitz & Jing 1995); 520 steps -> 9."""
    if n < 2:
        raise ValueError(f"n={n}: a block bootstrap needs at least 2 steps")
    return max(1, int(np.ceil(n ** (1 / 3) - 1e-9)))


def block_resamples(n: int, block: int, n_boot: int = 2000, seed: int = 0) -> np.ndarray:
    """(n_boot, n) step indices of the moving-block bootstrap (Kuensch 1989): each resample
    joins ceil(n / block) runs of `block` consecutive steps, each run starting anywhere in
    0..n-block, cut to n. Seeded: statistics computed on the same indices are paired (the
    same resampled steps for a model and its baselines)."""
    if n < 2 or not 1 <= block <= n:
        raise ValueError(f"n={n}, block={block}: need n >= 2 and a block of 1..n steps")
    if n_boot < 1:
        raise ValueError(f"n_boot={n_boot}: ask for at least one resample, e.g. 2000")
    rng = np.random.default_rng(seed)
    runs = -(-n // block)
    starts = rng.integers(0, n - block + 1, (n_boot, runs))  # (n_boot, runs)
    return (starts[:, :, None] + np.arange(block)).reshape(n_boot, -1)[:, :n]  # (n_boot, n)


def percentile_interval(draws, level: float = 0.95) -> tuple[float, float]:
    """(lo, hi): the central `level` share of one statistic's bootstrap draws (1-D)."""
    if not 0 < level < 1:
        raise ValueError(f"level={level}: give a coverage between 0 and 1, e.g. 0.95")
    tail = (1 - level) / 2 * 100
    lo, hi = np.nanpercentile(np.asarray(draws, dtype=float), [tail, 100 - tail])
    return float(lo), float(hi)


def block_bootstrap_ci(
    values,
    statistic: Callable[[np.ndarray], float] = np.mean,
    block: int | None = None,
    n_boot: int = 2000,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[float, float, float]:
    """(estimate, lo, hi): `statistic(values)` with its moving-block bootstrap interval.

    `values` holds one row per step of a series, in time order (axis 0); `block` defaults to
    `block_length(n)`. For several statistics that must be paired, use `block_resamples` once.
    """
    data = np.asarray(values)
    n = data.shape[0]
    idx = block_resamples(n, block or block_length(n), n_boot, seed)
    draws = np.array([statistic(data[i]) for i in idx])
    return (float(statistic(data)), *percentile_interval(draws, level))


def spread(values) -> dict[str, float | int]:
    """{"n", "median", "min", "max"} of per-example values: how one example's number sits among
    fresh ones (a lesson's "on this sentence" beside its distribution)."""
    v = np.asarray(values, dtype=float).ravel()
    v = v[np.isfinite(v)]
    if v.size == 0:
        raise ValueError("no finite values to summarise")
    return {"n": int(v.size), "median": float(np.median(v)), "min": float(v.min()),
            "max": float(v.max())}  # fmt: skip


def covers(lo: float, hi: float, value: float) -> bool:
    """Whether the interval [lo, hi] contains `value` (e.g. chance: then say "at chance")."""
    return lo <= value <= hi
