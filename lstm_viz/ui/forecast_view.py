"""Forecast: the series, one-step predictions, a multi-step forecast launched from a chosen step,
RMSE beside naive persistence and seasonal naive on the held-out tail (each with its n and a
block-bootstrap interval, and whether the model beats each baseline by the paired difference's
interval: `series.tail_comparison`), and a quick model trained on the user's own CSV column
(`forecast_training.py`).
"""

from __future__ import annotations

import re

import numpy as np
import streamlit as st

from lstm_viz import figures
from lstm_viz.limits import MAX_HORIZON
from lstm_viz.models import SequenceModel, shipped_metrics
from lstm_viz.tasks import forecast, series, shipped_task
from lstm_viz.ui import forecast_training, loaders, state
from lstm_viz.ui.common import CHART, plain, show_error

SHIPPED = [m.name for m in forecast.TASK.models]  # one shipped model per series


def _switch(name: str) -> None:
    """Callback: put a shipped forecasting model and its whole series in the sidebar."""
    examples = loaders.task_examples("forecast", shipped_task(name)[1].variant)
    state.go_to(model=name, input="example", example=examples[0].name)


@st.cache_data(show_spinner=False, max_entries=8)
def _shipped_series(variant: str, synthetic: tuple | None) -> series.Series:
    return series.variant_series(variant, dict(synthetic) if synthetic else None)


def _sidebar_entry(src) -> dict | None:
    """The sidebar's model as a forecast entry, when it is one with a stored series."""
    model = src.model
    if not isinstance(model, SequenceModel) or model.config.task != "forecast":
        return None
    extra = model.config.extra
    if extra.get("variant") not in series.VARIANTS:
        return None
    synthetic = extra.get("synthetic")
    s = _shipped_series(extra["variant"], tuple(sorted(synthetic.items())) if synthetic else None)
    metrics = shipped_metrics(src.model_key) if src.model_key in SHIPPED else {}
    return dict(model=model, values=s.values, labels=s.labels, unit=s.unit, metrics=metrics)


def _not_forecast_ui(src) -> None:
    config = getattr(src.model, "config", None)
    why = (
        "a forecasting model whose series is not stored with it"
        if config is not None and config.task == "forecast"
        else "not a forecasting model"
    )
    st.info(
        f"This view is for forecasting models (the series tasks); the sidebar's model "
        f"({plain(src.title)}) is {why}. Switch to a shipped one, or train a quick model on your "
        "own CSV column below."
    )
    for col, name in zip(st.columns(len(SHIPPED)), SHIPPED, strict=True):
        col.button(
            f"Use {loaders.model_title(name)}",
            key=f"lv_fc_switch_{name}",
            on_click=_switch,
            args=(name,),
            width="stretch",
        )


@st.cache_data(show_spinner=False, max_entries=16)
def _tail_comparison(values: np.ndarray, pred: np.ndarray, tail: int, season: int):
    """The block-bootstrap comparison on the held-out tail, once per model and series (~15 ms)."""
    return series.tail_comparison(values, pred, tail, season)


def _fixed(x: float, lead: float) -> str:
    """x with three significant digits of `lead`'s size: -0.131, -0.150; -15.2, -19.0."""
    digits = max(0, 2 - int(np.floor(np.log10(abs(lead))))) if lead else 3
    return f"{x:.{digits}f}"


def _rmse_table(entry: dict, start: int, paths: dict, cmp: series.TailComparison) -> dict:
    v, extra = entry["values"], entry["model"].config.extra
    season = extra["season"]
    names = ("model", "persistence", "seasonal naive")
    m = entry["metrics"]
    multi = [m.get(k) for k in ("multistep_rmse", "multistep_persistence_rmse")]
    multi.append(m.get("multistep_seasonal_naive_rmse"))
    known = min(len(v) - start - 1, len(next(iter(paths.values()))))
    here = []
    for key in ("forecast", "persistence", "seasonal naive"):
        ok = known > 0 and key in paths
        truth = v[start + 1 : start + 1 + known]
        here.append(series.rmse(paths[key][:known], truth) if ok else None)
    h = extra["horizon"]
    return {
        "": ["LSTM", "persistence (last value)", f"seasonal naive (season {season})"],
        # n beside each score (issue 15): the tail's steps, the recorded forecasts' launches
        f"one-step RMSE (n = {cmp.n:,} steps)": [round(cmp.rmse[k][0], 4) for k in names],
        f"95% CI, {cmp.block}-step blocks": [
            f"{cmp.rmse[k][1]:.4g}–{cmp.rmse[k][2]:.4g}" for k in names
        ],
        f"{h}-step RMSE (recorded, n = {m.get('multistep_launches', '?')} launches, no interval)": [
            None if x is None else round(x, 4) for x in multi
        ],
        f"this launch ({known} steps, no interval)": [
            None if x is None else round(x, 4) for x in here
        ],
    }


def comparison_text(cmp: series.TailComparison) -> str:
    """'beats persistence: RMSE difference -0.131 (95% CI -0.150 to -0.113, n = 520)', for both
    baselines, and how the intervals were made."""
    parts = []
    for base, (d, lo, hi) in cmp.diff.items():
        f = lambda x, d=d: _fixed(x, d)  # noqa: E731
        parts.append(
            f"{cmp.verdict(base)} {base}: RMSE difference {f(d)} "
            f"(95% CI {f(lo)} to {f(hi)}, n = {cmp.n:,})"
        )
    return (
        f"On the held-out tail the model {parts[0]}, and {parts[1]}. Intervals: a moving-block "
        f"bootstrap over the tail's per-step squared errors ({cmp.block}-step blocks, "
        f"{cmp.n_boot:,} resamples, seed {cmp.seed}), the same resampled steps for the model and "
        "both baselines, so each difference is paired; a difference whose interval leaves out 0 "
        "is one this tail can tell."
    )


def _panel(key: str, entry: dict, step: int | None = None) -> None:
    """The charts and table for one model; `step`: the sidebar's current raw step, if any."""
    model, v, labels = entry["model"], entry["values"], entry["labels"]
    extra = model.config.extra
    tail, season = extra["test_start"], extra["season"]
    offset = forecast.scaling_of(model).offset
    pred = forecast.one_step(model, v)  # (N,): one pass over the series
    tag = re.sub(r"\W", "_", key)  # per-model widget keys (ranges differ), usable as CSS classes
    c1, c2, c3 = st.columns([4, 3, 1.4])
    start_key = f"lv_fc_start_{tag}"
    state.keep_in_range(start_key, offset, len(v) - 1)
    if step is not None and offset <= step < len(v) and step != state.widget_value(start_key):
        st.button(
            f"Launch from the step-by-step view's step ({step}, {labels[step]})",
            key="lv_fc_from_step",
            on_click=state.go_to,
            kwargs={"widgets": {start_key: step}},
        )
    start = c1.slider(
        "Launch the forecast after step",
        offset,
        len(v) - 1,
        min(max(tail - 1, offset), len(v) - 1),
        key=start_key,
        help="The model reads the series up to this step, then feeds its own outputs back in.",
    )
    top = int(min(MAX_HORIZON, max(4 * season, 50, int(extra["horizon"]))))
    horizon_key = f"lv_fc_horizon_{tag}"
    state.keep_in_range(horizon_key, 1, top)
    horizon = c2.slider(
        "Horizon (steps)", 1, top, min(max(int(extra["horizon"]), 1), top), key=horizon_key
    )
    whole = c3.toggle("Whole series", key=f"lv_fc_whole_{tag}")
    paths = {"forecast": forecast.forecast(model, v, start, horizon)}
    naive = series.naive_forecasts(v, start, horizon, season) if start + 1 >= season else {}
    paths["persistence"] = np.full(horizon, v[start])
    if naive:
        paths["seasonal naive"] = naive["seasonal_naive"]
    window = (0, len(v)) if whole else (max(0, start - 3 * horizon), len(v))
    if not whole:
        window = (window[0], min(len(v), start + 2 * horizon + 1))
    fig = figures.forecast_figure(v, labels, pred, tail, start, paths, entry["unit"], window)
    st.plotly_chart(fig, key="lv_fc_chart", config=CHART)
    try:
        cmp = _tail_comparison(v, pred, tail, season)
    except ValueError as err:  # a tail the model has no predictions for
        show_error("Could not score the held-out tail", err)
        return
    st.dataframe(_rmse_table(entry, start, paths, cmp), hide_index=True, key="lv_fc_rmse")
    st.markdown(comparison_text(cmp))
    st.caption(
        f"The held-out tail starts at {plain(labels[tail])} (step {tail}): never trained on and "
        "not used to pick the weights. Persistence repeats the last value; seasonal naive "
        f"repeats the value one season ({season} steps) earlier. Launched at step {start} "
        f"({plain(labels[start])})."
    )


def forecast_view(src, tr, preds, trace_id: str) -> None:
    trained = forecast_training.trained_models()
    st.markdown("### Forecast")
    options = {}
    sidebar = _sidebar_entry(src)
    if sidebar is not None:
        options["sidebar"] = f"{src.title} (the sidebar's model)"
    else:
        _not_forecast_ui(src)
    options.update({name: f"yours: {name}" for name in trained})
    if options:
        state.keep_choice("lv_fc_model", list(options))
        choice = st.selectbox(
            "Forecasting model", list(options), format_func=options.get, key="lv_fc_model"
        )
        if choice == "sidebar":
            # launched from the step control's step when the sidebar shows the whole series
            offset = forecast.scaling_of(src.model).offset
            whole = len(src.labels) == len(sidebar["values"]) - offset
            step = state.place().step if whole else None
            _panel(src.model_key, sidebar, None if step is None else int(step) + offset)
        else:
            _panel(choice, trained[choice])
        if choice != "sidebar":
            forecast_training.download_ui(trained[choice])
    with st.expander("Train a quick model on your own CSV column", expanded=not options):
        forecast_training.train_ui()
