"""Forecasting: an LSTM reads a series step by step and predicts the next value at every step.

After "LSTMs for time-series forecasting": three series (weekly Mauna Loa CO2, yearly sunspots, a
synthetic seasonal series with a trend) and the user's own CSV column. Each series is split in
time into training | validation | held-out tail. Scaling is fit on the training part only; CO2
and the synthetic series are modelled as first differences (see `series.wants_difference`) so
their trend carries on into the tail. Training uses random windows of the training part; the
weights kept are those with the best one-step RMSE on the validation part, and the tail is only
used to report: one-step RMSE of the model against naive persistence (v[t-1]) and seasonal naive
(v[t-season]), all in original units, plus the RMSE of autoregressive multi-step forecasts.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np
import torch

from lstm_viz.limits import MAX_HORIZON, whole_number
from lstm_viz.models import ModelConfig, SequenceModel, set_seed
from lstm_viz.scaling import Scaling
from lstm_viz.tasks.fit import Progress, fit
from lstm_viz.tasks.series import (
    SYNTHETIC,
    VARIANTS,
    Series,
    baselines,
    check_series,
    custom_series,
    naive_forecasts,
    rmse,
    variant_series,
    wants_difference,
)
from lstm_viz.tasks.task import Example, Metrics, Shipped, Task


@dataclass
class ForecastConfig:
    test_len: int  # held-out tail (raw steps), never trained on nor used to pick weights
    val_len: int  # validation block just before the tail: picks the weights kept
    hidden_size: int = 32  # units of the recurrent core
    window: int = 128  # model steps per training window
    batch_size: int = 32  # windows per Adam step
    steps: int = 1500  # Adam steps
    lr: float = 3e-3  # Adam learning rate
    eval_every: int = 50  # steps between validation checks (a multiple of fit's 10-step report)


CONFIGS = {
    # tail 1992-2001 (10 years); validation the 5 years before it
    "co2": ForecastConfig(test_len=520, val_len=260, window=156),
    # tail 1959-2008; validation 1919-1958; training 1700-1918 (219 years)
    "sunspots": ForecastConfig(test_len=50, val_len=40, window=64, hidden_size=24),
    "synthetic": ForecastConfig(test_len=120, val_len=72, window=96),
}


def _series(extra: dict) -> Series:
    """The series a model was trained on, rebuilt from its config.extra (not for "custom")."""
    if extra.get("variant") not in VARIANTS:
        raise ValueError(
            f"variant {extra.get('variant')!r} has no stored series; "
            "pass the values, e.g. evaluate(model, values)"
        )
    return variant_series(extra["variant"], extra.get("synthetic"))


def scaling_of(model: SequenceModel) -> Scaling:
    """How this model maps raw values to its input and its outputs back (from config.extra)."""
    return Scaling(**model.config.extra["scaling"])


def model_input(model: SequenceModel, values) -> np.ndarray:
    """The model's input (N - offset, 1) float32 for raw values (N,)."""
    return scaling_of(model).to_input(np.asarray(values, dtype=np.float64))


@torch.no_grad()
def one_step(model: SequenceModel, values) -> np.ndarray:
    """One-step-ahead predictions (N,): pred[i] forecasts values[i] from values[:i] (NaN if none).

    One pass over the whole series, as the app traces it: the state carries across all steps.
    """
    values = np.asarray(values, dtype=np.float64)
    scaling = scaling_of(model)
    out = model(torch.from_numpy(scaling.to_input(values)))[0, :, 0].numpy()  # (N - offset,)
    return scaling.to_values(out, values)


@torch.no_grad()
def forecast(model: SequenceModel, values, start: int, horizon: int) -> np.ndarray:
    """Autoregressive forecast (horizon,) of raw steps start+1 .. start+horizon.

    The model reads values[: start + 1], then is fed its own outputs as inputs.
    """
    values = np.asarray(values, dtype=np.float64)
    scaling = scaling_of(model)
    start, horizon = whole_number(start, "start"), whole_number(horizon, "horizon", 12)
    if not scaling.offset <= start < len(values):
        raise ValueError(
            f"start={start} is outside the series; "
            f"pick a step in {scaling.offset}..{len(values) - 1}"
        )
    if not 1 <= horizon <= MAX_HORIZON:
        raise ValueError(f"horizon={horizon}: forecast 1..{MAX_HORIZON} steps (e.g. horizon=12)")
    x = torch.from_numpy(scaling.to_input(values[: start + 1]))[None]  # (1, T, 1)
    out, state = model.core(model.encoder(x))
    y = model.head(out[:, -1:])  # (1, 1, 1): the forecast of step start + 1
    outs = [y]
    for _ in range(horizon - 1):  # the scaled output is the next scaled input
        out, state = model.core(model.encoder(y), state)
        y = model.head(out)
        outs.append(y)
    return scaling.unroll(torch.cat(outs, 1)[0, :, 0].numpy(), values[start])


def _r(x: float) -> float:
    return round(float(x), 5)


def evaluate(model: SequenceModel, values=None) -> dict:
    """RMSEs on the held-out tail in original units: model, persistence, seasonal naive, multi-step.

    `values` defaults to the series stored with the model (config.extra["variant"]).
    """
    extra = model.config.extra
    v = _series(extra).values if values is None else check_series(values)
    start, season, horizon = extra["test_start"], extra["season"], extra["horizon"]
    if len(v) <= start + horizon:
        raise ValueError(f"the series needs more than {start + horizon} values for this model")
    pred = one_step(model, v)
    # multi-step: launched after every `stride`-th tail step, scored at all horizons 1..H
    stride = max(1, horizon // 4)
    launches = range(start - 1, len(v) - horizon, stride)
    err = {"model": [], "persistence": [], "seasonal_naive": []}
    for s in launches:
        truth = v[s + 1 : s + 1 + horizon]
        err["model"].append(forecast(model, v, s, horizon) - truth)
        for k, f in naive_forecasts(v, s, horizon, season).items():
            err[k].append(f - truth)
    multi = {k: float(np.sqrt(np.mean(np.square(e)))) for k, e in err.items()}
    base = baselines(v, start, season)
    return {
        "variant": extra["variant"],
        "test_steps": len(v) - start,
        "season": season,
        "model_rmse": _r(rmse(pred[start:], v[start:])),
        "persistence_rmse": _r(base["persistence_rmse"]),
        "seasonal_naive_rmse": _r(base["seasonal_naive_rmse"]),
        "horizon": horizon,
        "multistep_launches": len(launches),
        "multistep_rmse": _r(multi["model"]),
        "multistep_persistence_rmse": _r(multi["persistence"]),
        "multistep_seasonal_naive_rmse": _r(multi["seasonal_naive"]),
    }


def _prepare(series: Series, cfg: ForecastConfig, difference: bool | None) -> tuple:
    """(test_start, val_start, scaling) for a series split in time; scaling sees training only."""
    test_start = len(series.values) - cfg.test_len
    val_start = test_start - cfg.val_len
    train = series.values[:val_start]
    difference = wants_difference(train) if difference is None else difference
    return test_start, val_start, Scaling.fit(train, difference)


def _train(
    series: Series,
    cfg: ForecastConfig,
    core: str,
    seed: int,
    steps: int | None,
    progress: Progress | None,
    difference: bool | None = None,
    extra: dict | None = None,
    metrics: Metrics | None = None,
) -> tuple[SequenceModel, dict]:
    steps = cfg.steps if steps is None else steps
    rng = set_seed(seed)
    v = series.values
    test_start, val_start, scaling = _prepare(series, cfg, difference)
    config = ModelConfig(
        core=core,
        input_size=1,
        hidden_size=cfg.hidden_size,
        output_labels=["next change" if scaling.difference else "next value"],
        task="forecast",
        extra={
            "variant": series.name,
            "scaling": scaling.to_dict(),
            "season": series.season,
            "horizon": max(2, series.season),
            "test_start": test_start,
            "val_start": val_start,
            "unit": series.unit,
            "train": asdict(cfg),
            **(extra or {}),
        },
    )
    model = SequenceModel(config)
    z = torch.from_numpy(scaling.to_input(v))  # (N - offset, 1)
    # window inputs z[a : a + W] -> targets z[a + 1 : a + W + 1]; the last target z[a + W] sits
    # at raw index a + W + offset and must stay before the validation block
    last = val_start - scaling.offset - 1
    window = min(cfg.window, last - 1)
    burn = min(8, window // 4)  # a cold state cannot know the season yet: do not score it

    def batch_fn(_step: int) -> tuple:
        a = rng.integers(0, last - window + 1, size=cfg.batch_size)
        win = z[a[:, None] + np.arange(window + 1)]  # (B, W + 1, 1)
        return win[:, :-1], win[:, 1:]

    def loss_fn(m: SequenceModel, batch: tuple) -> torch.Tensor:
        x, y = batch
        return torch.mean((m(x)[:, burn:] - y[:, burn:]) ** 2)

    best = {"rmse": float("inf"), "step": 0, "state": None}

    def watch(done: int, total: int, loss: float) -> None:
        # piggybacks on fit's progress calls (every 10 steps) to keep the best validation weights
        if (done - 1) % cfg.eval_every == 0 or done == total:
            with torch.no_grad():
                pred = one_step(model, v[:test_start])
            r = rmse(pred[val_start:], v[val_start:test_start])
            if r < best["rmse"]:
                state = {k: t.detach().clone() for k, t in model.state_dict().items()}
                best.update(rmse=r, step=done, state=state)
        if progress is not None:
            progress(done, total, loss)

    losses = fit(model, batch_fn, loss_fn, steps, lr=cfg.lr, progress=watch) if steps else []
    if best["state"] is not None:
        model.load_state_dict(best["state"])
    model.eval()
    found = evaluate(model, v if series.name == "custom" else None)
    if not np.isfinite(found["model_rmse"]):  # never report "trained" with infinite errors
        raise ValueError(
            "training gave non-finite errors on this series; rescale the column (divide it by "
            "a constant) or remove outliers, then train again"
        )
    k = max(1, min(10, len(losses) // 4))
    found.update(
        core=core,
        steps=steps,
        hidden_size=cfg.hidden_size,
        difference=scaling.difference,
        val_rmse=_r(best["rmse"]),
        best_step=best["step"],
        loss_start=_r(np.mean(losses[:k])) if losses else None,
        loss_end=_r(np.mean(losses[-k:])) if losses else None,
    )
    if metrics is not None:
        found.update(metrics(model))
    return model, found


def train_model(
    core: str = "lstm",
    seed: int = 0,
    steps: int | None = None,
    progress: Progress | None = None,
    metrics: Metrics | None = None,
    variant: str = "co2",
) -> tuple[SequenceModel, dict]:
    """Train on a shipped series ("co2", "sunspots") or the default synthetic one; `metrics(model)`
    is merged into the returned metrics."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; choose one of {', '.join(VARIANTS)}")
    extra = {"synthetic": SYNTHETIC} if variant == "synthetic" else {}
    series = variant_series(variant)
    return _train(
        series, CONFIGS[variant], core, seed, steps, progress, extra=extra, metrics=metrics
    )


def train_on_series(
    values,
    core: str = "lstm",
    seed: int = 0,
    steps: int | None = None,
    progress: Progress | None = None,
    season: int | None = None,
    difference: bool | None = None,
    labels: list[str] | None = None,
) -> tuple[SequenceModel, dict]:
    """Train on the user's own series (e.g. a CSV column); the last 20% is the held-out tail.

    season: steps per cycle for the seasonal-naive baseline (None: estimated from the data);
    difference: model changes instead of values (None: decided from the training part's trend).
    """
    series, test_len, val_len = custom_series(values, season, labels)
    cfg = ForecastConfig(test_len=test_len, val_len=val_len, window=64, steps=600, eval_every=20)
    cfg = replace(cfg, window=min(128, max(cfg.window, 2 * series.season)))
    return _train(series, cfg, core, seed, steps, progress, difference)


def examples(variant: str | None = None) -> list[Example]:
    """The whole series of each variant (or just `variant`) as the shipped models read it.

    Step labels give the date or year and the value in original units (with the change when the
    model reads changes).
    """
    out = []
    for name in [variant] if variant else VARIANTS:
        if name not in VARIANTS:
            raise ValueError(f"unknown variant {name!r}; choose one of {', '.join(VARIANTS)}")
        series = variant_series(name)
        test_start, _, scaling = _prepare(series, CONFIGS[name], None)
        v, o, unit = series.values, scaling.offset, f" {series.unit}".rstrip()
        labels = [
            f"{series.labels[i]}: {v[i]:.1f}{unit}" + (f" ({v[i] - v[i - 1]:+.2f})" if o else "")
            for i in range(o, len(v))
        ]
        what = {
            "co2": "Weekly Mauna Loa CO2, 1958-2001; the model reads each week's change.",
            "sunspots": "Yearly sunspot numbers, 1700-2008; the model reads each year's value.",
            "synthetic": "A sine of period 24 plus a trend plus noise; the model reads changes.",
        }[name]
        out.append(
            Example(
                name=f"{name}: whole series",
                x=scaling.to_input(v),
                labels=labels,
                description=f"{what} The held-out tail starts at {series.labels[test_start]}; "
                "each step's output is the forecast of the next step.",
            )
        )
    return out


TASK = Task(
    name="forecast",
    title="forecast",
    train_fn=train_model,
    evaluate=evaluate,
    examples_fn=examples,
    reads="numbers",
    model_input=model_input,
    variants=VARIANTS,
    models=(
        Shipped("forecast_co2_lstm", "lstm", "co2"),
        Shipped("forecast_sunspots_lstm", "lstm", "sunspots"),
        Shipped("forecast_synthetic_lstm", "lstm", "synthetic"),
    ),
)
