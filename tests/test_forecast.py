"""Forecasting task: data, scaling, shipped models against their recorded metrics and baselines."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lstm_viz.models import load_shipped, shipped_metrics
from lstm_viz.tasks import forecast as F
from lstm_viz.tasks.series import Scaling, load_series, synthetic_series

VARIANTS = ("co2", "sunspots", "synthetic")
RMSE_KEYS = (
    "model_rmse",
    "persistence_rmse",
    "seasonal_naive_rmse",
    "multistep_rmse",
    "multistep_persistence_rmse",
    "multistep_seasonal_naive_rmse",
)


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_synthetic_generator_is_deterministic_per_seed():
    a = synthetic_series(length=200, period=12, trend=0.1, noise=0.5, seed=3)
    b = synthetic_series(length=200, period=12, trend=0.1, noise=0.5, seed=3)
    c = synthetic_series(length=200, period=12, trend=0.1, noise=0.5, seed=4)
    np.testing.assert_array_equal(a.values, b.values)
    assert not np.array_equal(a.values, c.values)
    assert a.values.shape == (200,) and a.season == 12 and len(a.labels) == 200
    quiet = synthetic_series(length=120, period=10, trend=0.0, noise=0.0, amplitude=2.0)
    np.testing.assert_allclose(quiet.values[:10], quiet.values[10:20], atol=1e-12)


def test_shipped_series_load_complete():
    co2, sun = load_series("co2"), load_series("sunspots")
    assert len(co2.values) == 2284 and co2.labels[0] == "1958-03-29" and co2.season == 52
    assert len(sun.values) == 309 and sun.labels[-1] == "2008" and sun.season == 11
    assert np.isfinite(co2.values).all() and np.isfinite(sun.values).all()
    with pytest.raises(ValueError, match="choose"):
        load_series("nile")


def test_scaling_round_trip_aligns_predictions():
    v = np.array([1.0, 3.0, 2.0, 5.0, 4.0])
    for difference in (False, True):
        s = Scaling.fit(v, difference)
        x = s.to_input(v)[:, 0]  # (N - offset,)
        # feeding the true next input as the "output" must reproduce the series exactly
        pred = s.to_values(np.r_[x[1:], 0.0], v)
        o = s.offset
        assert np.isnan(pred[: o + 1]).all()
        np.testing.assert_allclose(pred[o + 1 :], v[o + 1 :], rtol=1e-6)


@pytest.mark.parametrize("variant", VARIANTS)
def test_shipped_model_meets_recorded_metrics_and_beats_baselines(variant):
    name = f"forecast_{variant}_lstm"
    model = load_shipped(name)
    recorded = shipped_metrics(name)
    fresh = F.evaluate(model)
    for key in RMSE_KEYS:
        assert fresh[key] == pytest.approx(recorded[key], rel=1e-4, abs=1e-4), key
    assert fresh["model_rmse"] < fresh["persistence_rmse"]
    assert fresh["model_rmse"] < fresh["seasonal_naive_rmse"]
    assert model.config.extra["variant"] == variant
    assert {"scaling", "season", "test_start"} <= set(model.config.extra)


def test_short_training_lowers_the_loss():
    # no trend, so the model reads levels; the loss sits near 1 for ~40 steps, then falls
    values = synthetic_series(length=240, period=12, trend=0.0, noise=0.2, seed=1).values
    _, metrics = F.train_on_series(values, steps=80, season=12)
    assert metrics["loss_end"] < 0.6 * metrics["loss_start"]
    assert metrics["variant"] == "custom" and metrics["season"] == 12


@pytest.mark.parametrize(
    "values, match",
    [
        (np.arange(20.0), "at least"),
        (np.r_[np.sin(np.arange(100.0)), np.nan], "missing or infinite"),
        (np.r_[np.sin(np.arange(100.0)), np.inf], "missing or infinite"),
        (np.full(200, 3.0), "constant"),
        (np.linspace(0.0, 5.0, 200), "constant"),
        (np.ones((2, 100)), "one column"),
        (["a"] * 100, "numbers"),
    ],
)
def test_train_on_series_rejects_bad_series(values, match):
    with pytest.raises(ValueError, match=match):
        F.train_on_series(values, steps=1)


def test_train_on_series_rejects_bad_season():
    with pytest.raises(ValueError, match="season"):
        F.train_on_series(np.sin(np.arange(100.0)), season=60, steps=1)


@pytest.mark.parametrize("variant", ["co2", "sunspots"])
def test_autoregressive_forecast_starts_from_chosen_step(variant):
    model = load_shipped(f"forecast_{variant}_lstm")
    v = load_series(variant).values
    start, horizon = 200, 15
    out = F.forecast(model, v, start, horizon)
    assert out.shape == (horizon,) and np.isfinite(out).all()
    # its first step is the one-step prediction of step start + 1 ...
    assert out[0] == pytest.approx(F.one_step(model, v)[start + 1], rel=1e-5)
    # ... and it reads nothing after `start`
    cut = v.copy()
    cut[start + 1 :] = 0.0
    np.testing.assert_allclose(F.forecast(model, cut, start, horizon), out, rtol=1e-6)
    with pytest.raises(ValueError, match="outside"):
        F.forecast(model, v, len(v), 3)


@pytest.mark.parametrize("variant", ["co2", "sunspots"])
def test_readout_gives_the_one_step_predictions_in_the_data_units(variant):
    model = load_shipped(f"forecast_{variant}_lstm")
    v = load_series(variant).values[:300]
    scaling = F.scaling_of(model)
    _, preds = model.trace(F.model_input(model, v))  # (N - offset, 1) scaled outputs
    change_or_value = model.readout(preds)[:, 0]
    # by hand: z * std + mean is the next value, or the next change added to the current value
    by_hand = preds[:, 0].astype(np.float64) * scaling.std + scaling.mean
    np.testing.assert_allclose(change_or_value, by_hand, rtol=1e-12)
    o = scaling.offset
    level = change_or_value[:-1] + (v[o:-1] if scaling.difference else 0.0)
    np.testing.assert_allclose(level, F.one_step(model, v)[o + 1 :], rtol=1e-5)


def test_examples_match_models():
    for ex in F.examples():
        variant = ex.name.split(":")[0]
        model = load_shipped(f"forecast_{variant}_lstm")
        assert ex.x.dtype == np.float32 and ex.x.ndim == 2 and len(ex.labels) == len(ex.x)
        values = F._series(model.config.extra).values
        np.testing.assert_array_equal(F.model_input(model, values), ex.x)
    assert F.examples("co2")[0].labels[0].startswith("1958-04-05: 317.3 ppm")


def test_package_does_not_import_statsmodels():
    from pathlib import Path

    import lstm_viz

    for path in Path(lstm_viz.__file__).parent.rglob("*.py"):
        text = path.read_text()
        assert "import statsmodels" not in text and "from statsmodels" not in text, path


def test_tail_comparison_pairs_the_resamples():
    from lstm_viz.tasks import series

    v = synthetic_series(length=300, period=12, trend=0.05, noise=0.3, seed=2).values
    start = 200
    persistence = np.r_[np.nan, v[:-1]]  # pred[i] forecasts v[i] from v[:i]
    cmp = series.tail_comparison(v, persistence, start, 12)
    assert cmp.n == 100 and cmp.block == 5 and cmp.n_boot == 2000
    # the model is persistence: the same steps resampled for both give a difference of exactly 0
    assert cmp.diff["persistence"] == (0.0, 0.0, 0.0)
    assert cmp.verdict("persistence") == "does not measurably beat"
    value, lo, hi = cmp.rmse["model"]
    assert value == pytest.approx(series.baselines(v, start, 12)["persistence_rmse"])
    assert lo < value < hi
    better = v + 0.01 * np.random.default_rng(0).normal(size=len(v))  # nearly the truth
    assert series.tail_comparison(v, better, start, 12).verdict("seasonal naive") == "beats"
    worse = np.r_[np.nan, v[:-1]] + 5.0
    assert series.tail_comparison(v, worse, start, 12).verdict("persistence") == "is worse than"
    with pytest.raises(ValueError, match="no prediction"):
        series.tail_comparison(v, np.full(len(v), np.nan), start, 12)
    # the general paired difference draws the same resamples: the same interval
    gap = series.rmse_difference(worse[start:], v[start - 1 : -1], v[start:])
    assert gap == pytest.approx(series.tail_comparison(v, worse, start, 12).diff["persistence"])
