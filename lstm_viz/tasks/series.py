"""Series for the forecasting task: the shipped CSVs, a synthetic generator, baselines.

How values are scaled for the model (`Scaling`) lives in `lstm_viz/scaling.py`; the shipped series,
their names and the synthetic defaults (`load_series`, `VARIANTS`) in `lstm_viz/series_files.py`.

Everything here is numpy; the model lives in `forecast.py`. Conventions used throughout:

- `values` is a raw series (N,) float64 in its original units (ppm, sunspot number, ...);
- the model reads one scaled number per step, either the value itself or, when `difference` is on,
  its change since the previous step (so a trend like CO2's extrapolates instead of saturating);
- model step j therefore sits at raw index j + offset (offset 1 with differencing, else 0), and its
  output at step j is the forecast of raw index j + offset + 1;
- one-step predictions come back as (N,) arrays where pred[i] forecasts values[i] from values[:i]
  (NaN where no forecast exists), so a RMSE over any index range compares like with like.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lstm_viz.limits import MAX_SERIES, MAX_SERIES_ABS, whole_number
from lstm_viz.scaling import Scaling  # noqa: F401  (re-exported: the task's scaling lives there)
from lstm_viz.series_files import (  # noqa: F401  (re-exported: the shipped series live there)
    DATA_DIR,
    MIN_LENGTH,
    SYNTHETIC,
    VARIANTS,
    Series,
    load_series,
)
from lstm_viz.stats import block_length, block_resamples, percentile_interval


def synthetic_series(
    length: int = 600,
    period: int = 24,
    trend: float = 0.02,
    noise: float = 0.2,
    amplitude: float = 1.0,
    seed: int = 0,
) -> Series:
    """Seasonality + linear trend + Gaussian noise; the same seed gives the same series.

    value[t] = amplitude * sin(2 pi t / period) + trend * t + noise * N(0, 1)
    """
    if length < MIN_LENGTH:
        raise ValueError(f"length={length} is too short; use at least {MIN_LENGTH} (e.g. 600)")
    if period < 2:
        raise ValueError(f"period={period} must be at least 2 steps (e.g. 24)")
    if noise < 0:
        raise ValueError(f"noise={noise} must be >= 0 (it is a standard deviation)")
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    season = amplitude * np.sin(2 * np.pi * t / period)
    values = season + trend * t + noise * rng.normal(size=length)
    return Series("synthetic", values, [f"t={i}" for i in t], "", season=period)


def variant_series(variant: str, synthetic: dict | None = None) -> Series:
    """The series of a forecasting variant; "synthetic" uses SYNTHETIC unless given parameters."""
    if variant == "synthetic":
        return synthetic_series(**(synthetic or SYNTHETIC))
    return load_series(variant)


def check_series(values, min_length: int = MIN_LENGTH) -> np.ndarray:
    """The user's values as (N,) float64, or a ValueError that says how to fix them."""
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            "the series must be numbers; pick a numeric CSV column (no text or dates)"
        ) from None
    if arr.ndim != 1:
        raise ValueError(f"expected one column of values (N,), got shape {arr.shape}; pick one")
    if len(arr) < min_length:
        raise ValueError(
            f"the series has {len(arr)} values; forecasting needs at least {min_length} "
            "(training, validation and a held-out tail); use a longer column"
        )
    bad = np.flatnonzero(~np.isfinite(arr))
    if len(bad):
        raise ValueError(
            f"the series has {len(bad)} missing or infinite values (first at row {bad[0]}); "
            "fill them (e.g. interpolate) or drop those rows"
        )
    if len(arr) > MAX_SERIES:
        raise ValueError(
            f"the series has {len(arr)} values; the app forecasts at most {MAX_SERIES}: "
            "keep the most recent part"
        )
    big = float(np.abs(arr).max())
    if big > MAX_SERIES_ABS:
        # squares of such values (variance, RMSE) overflow float64 to inf: a model "trained"
        # on them would report infinite errors as if nothing were wrong
        raise ValueError(
            f"the series holds values up to {big:.3g}; the app takes |values| up to "
            f"{MAX_SERIES_ABS:.0e}: divide the column by a constant (change its unit) first"
        )
    if np.ptp(arr) == 0 or np.std(np.diff(arr)) < 1e-12 * max(1.0, np.abs(arr).max()):
        raise ValueError(
            "the series is constant (or a straight line); there is nothing to learn: "
            "persistence (plus the step) forecasts it exactly - pick a column that varies"
        )
    return arr


def custom_series(
    values, season: int | None = None, labels: list[str] | None = None
) -> tuple[Series, int, int]:
    """(Series, test_len, val_len) for the user's values: the last 20% is the held-out tail.

    season None: estimated from the first 70% (so the tail does not choose its own baseline).
    """
    v = check_series(values)
    n = len(v)
    if season is not None:
        season = whole_number(season, "season", example=12)
    season = estimate_season(v[: int(0.7 * n)]) if season is None else season
    if not 1 <= season <= n // 4:
        raise ValueError(f"season={season} must be between 1 and {n // 4} (a quarter of the data)")
    if labels is not None and len(labels) != n:
        raise ValueError(f"got {len(labels)} labels for {n} values; pass one label per value")
    test_len = max(int(0.2 * n), season + 1)
    val_len = max(int(0.1 * n), season + 1)
    if n - test_len - val_len < max(30, 2 * season):
        raise ValueError(
            f"{n} values leave too little training data for season={season}; "
            "use a longer series or a shorter season"
        )
    series = Series("custom", v, list(labels or map(str, range(n))), "", season)
    return series, test_len, val_len


def wants_difference(train_values: np.ndarray) -> bool:
    """Model changes instead of levels when a straight-line trend dominates the training part.

    A level model cannot predict values above anything it saw in training; a trend larger than the
    wiggles around it will carry the held-out tail out of that range.
    """
    t = np.arange(len(train_values))
    slope, icpt = np.polyfit(t, train_values, 1)
    rise = abs(slope) * len(t)
    return bool(rise > np.std(train_values - (slope * t + icpt)))


def rmse(pred: np.ndarray, true: np.ndarray) -> float:
    return float(np.sqrt(np.mean((np.asarray(pred) - np.asarray(true)) ** 2)))


def baselines(values: np.ndarray, start: int, season: int) -> dict:
    """One-step RMSE over values[start:] of persistence (v[t-1]) and seasonal naive (v[t-s])."""
    assert start >= season, "the tail must have a full season of history before it"
    tail = values[start:]
    return {
        "persistence_rmse": rmse(values[start - 1 : -1], tail),
        "seasonal_naive_rmse": rmse(values[start - season : len(values) - season], tail),
    }


@dataclass(frozen=True)
class TailComparison:
    """One-step RMSE on the held-out tail of a model and its baselines, each with a 95% interval,
    and model-minus-baseline differences with paired intervals: a moving-block bootstrap over
    the tail's steps (`stats.block_resamples`), the same resampled steps for every forecaster."""

    n: int  # steps scored: values[start:]
    block: int  # bootstrap block length in steps
    n_boot: int  # resamples
    seed: int
    rmse: dict[str, tuple[float, float, float]]  # forecaster -> (RMSE, lo, hi)
    diff: dict[str, tuple[float, float, float]]  # baseline -> model RMSE minus its (value, lo, hi)

    def verdict(self, baseline: str) -> str:
        """'beats', 'is worse than' or 'does not measurably beat', by the difference's interval."""
        _, lo, hi = self.diff[baseline]
        return "beats" if hi < 0 else "is worse than" if lo > 0 else "does not measurably beat"


def tail_comparison(
    values: np.ndarray, pred: np.ndarray, start: int, season: int, n_boot: int = 2000,
    seed: int = 0, block: int | None = None,
) -> TailComparison:  # fmt: skip
    """The model's one-step predictions `pred` (N,) against persistence and seasonal naive over
    values[start:], with block-bootstrap intervals (block: `stats.block_length(n)` by default;
    about 5 ms for 520 steps and 2,000 resamples)."""
    if not season <= start < len(values) - 1:
        raise ValueError(f"start={start}: the tail must leave a season ({season}) before it")
    truth = values[start:]
    errors = {  # (n,) squared error per step
        "model": (np.asarray(pred)[start:] - truth) ** 2,
        "persistence": (values[start - 1 : -1] - truth) ** 2,
        "seasonal naive": (values[start - season : len(values) - season] - truth) ** 2,
    }
    if not np.isfinite(errors["model"]).all():
        raise ValueError("the model has no prediction for some tail steps; start the tail later")
    n = len(truth)
    block = block or block_length(n)
    idx = block_resamples(n, block, n_boot, seed)  # (n_boot, n), shared: paired
    draws = {k: np.sqrt(e[idx].mean(axis=1)) for k, e in errors.items()}  # (n_boot,) each
    rmse_ = {
        k: (float(np.sqrt(e.mean())), *percentile_interval(draws[k])) for k, e in errors.items()
    }
    diff = {
        k: (rmse_["model"][0] - rmse_[k][0], *percentile_interval(draws["model"] - draws[k]))
        for k in ("persistence", "seasonal naive")
    }
    return TailComparison(n, block, n_boot, seed, rmse_, diff)


def rmse_difference(
    pred: np.ndarray, other: np.ndarray, truth: np.ndarray, n_boot: int = 2000, seed: int = 0,
    block: int | None = None,
) -> tuple[float, float, float]:  # fmt: skip
    """(RMSE(pred) - RMSE(other), lo, hi) against `truth` (n,), with the 95% interval of the
    moving-block bootstrap over the steps, the same resampled steps for both (paired): e.g. a
    model with a gate closed against the model as trained. Same resamples as `tail_comparison`
    for the same n, block and seed."""
    a, b = (np.asarray(x, dtype=float) - truth for x in (pred, other))
    if a.shape != np.shape(truth) or b.shape != a.shape or not np.isfinite(a + b).all():
        raise ValueError("pred, other and truth need the same length and finite values")
    idx = block_resamples(len(a), block or block_length(len(a)), n_boot, seed)
    draws = np.sqrt((a**2)[idx].mean(1)) - np.sqrt((b**2)[idx].mean(1))  # (n_boot,)
    return (rmse(pred, truth) - rmse(other, truth), *percentile_interval(draws))


def naive_forecasts(values: np.ndarray, start: int, horizon: int, season: int) -> dict:
    """Multi-step baselines launched after raw index `start`: (horizon,) arrays each."""
    h = np.arange(1, horizon + 1)
    back = season * np.ceil(h / season).astype(int)  # the latest same-season step already seen
    return {
        "persistence": np.full(horizon, values[start]),
        "seasonal_naive": values[start + h - back],
    }


def estimate_season(values: np.ndarray, max_lag: int | None = None) -> int:
    """Steps per cycle: the highest clear autocorrelation peak of the detrended values, else 1.

    A quadratic is removed first (a trend makes every lag look alike); a peak counts when it
    rises at least 0.2 above the lowest autocorrelation before it and exceeds 0.2 itself. With
    no such peak the seasonal-naive baseline falls back to persistence (season 1).
    """
    t = np.arange(len(values))
    z = values - np.polyval(np.polyfit(t, values, 2), t)
    max_lag = max_lag or len(z) // 3
    denom = float(np.dot(z, z)) or 1.0
    acf = np.array([1.0] + [np.dot(z[:-k], z[k:]) / denom for k in range(1, max_lag + 1)])
    best, height = 1, 0.2
    for k in range(2, max_lag):
        peak = acf[k] > acf[k - 1] and acf[k] >= acf[k + 1]
        # a later multiple of the season must be clearly higher to replace an earlier peak
        if peak and acf[k] - acf[1:k].min() > 0.2 and acf[k] > height + 0.05:
            best, height = k, float(acf[k])
    return best
