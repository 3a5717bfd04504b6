"""The intervene view: clamp a gate or ablate units, and see what changes.

The clamp runs inside the recurrence (`SequenceModel.trace(x, interventions=...)`), so its effect
flows on to later steps and to the prediction exactly as if the network had computed that value.
Clamps applied are kept in session state as a tuple of `ClampSpec`; re-traces are cached by it
(`analysis_cache.intervened`), and Reset simply drops it, so the view shows the cached unclamped
trace again: bit for bit what it showed before. The one-click experiments are in `experiments.py`.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from lstm_viz import cells, figures
from lstm_viz.limits import MAX_STATE_CLAMP
from lstm_viz.models import SequenceModel
from lstm_viz.ui import experiments, gates, state
from lstm_viz.ui.analysis_cache import ClampSpec, answer_step, intervened
from lstm_viz.ui.clicks import clicked_cell
from lstm_viz.ui.common import plain, show_error
from lstm_viz.ui.memory_view import CHART, step_picker, where_ui

MAX_VALUE = MAX_STATE_CLAMP  # a cell / hidden clamp's largest |value| (1e39 would overflow)
MODES = {"clamp": "clamp a gate or state", "ablate": "ablate units (cell and hidden to 0)"}
RANGES = {n: "0..1" for n in cells.SIGMOID_NAMES} | {n: "-1..1" for n in cells.TANH_NAMES}


def _names(kind: str) -> list[str]:
    return list({"lstm": cells.LSTM_NAMES, "gru": cells.GRU_NAMES}.get(kind, cells.RNN_NAMES))


def _apply(spec: tuple[ClampSpec, ...], add: bool = False) -> None:
    """Callback: apply these clamps (after the ones applied, with add=True)."""
    state.go_to(clamps=(state.place().clamps if add else ()) + tuple(spec))


def _reset() -> None:
    state.go_to(clamps=())


def _pair(value, steps: int) -> tuple[int, int]:
    """The step range slider's stored (lo, hi), kept inside this input (whole range if unusable)."""
    try:
        lo, hi = (int(v) for v in value)
    except (TypeError, ValueError):
        return 0, steps - 1
    lo, hi = min(max(lo, 0), steps - 1), min(max(hi, 0), steps - 1)
    return (lo, hi) if lo <= hi else (0, steps - 1)


def _controls(tr, layer: int, direction: int) -> tuple[ClampSpec, ...] | None:
    """The clamp the controls describe, or None (with the engine's message) if it is invalid."""
    steps = tr.steps
    mode = st.radio(
        "What to do", list(MODES), format_func=MODES.get, key="lv_iv_mode", horizontal=True
    )
    names = _names(tr.kind)
    units_of = tr.units("hidden") if tr.kind != "lstm" else tr.units("cell")
    c1, c2, c3 = st.columns([1, 2, 2])
    name, value = None, 0.0
    if mode == "clamp":
        state.keep_choice("lv_iv_gate", names)
        name = c1.selectbox("Gate or state", names, key="lv_iv_gate")
        state.keep_in_range("lv_iv_value", -MAX_VALUE, MAX_VALUE, clamp=False)
        state.set_widget("lv_iv_value", state.widget_value("lv_iv_value", 0.0))
        value = c1.number_input(
            f"Value ({RANGES.get(name, f'any number up to ±{MAX_VALUE:g}')})",
            min_value=-MAX_VALUE,
            max_value=MAX_VALUE,
            step=0.1,
            format="%.3f",
            key="lv_iv_value",
            help="Sigmoid gates take 0..1, tanh ones -1..1; cell and hidden any number.",
        )
    state.keep_choice("lv_iv_units", list(range(units_of)))
    units = c2.multiselect(
        "Units (none chosen: every unit)", list(range(units_of)), key="lv_iv_units"
    )
    if steps > 1:
        lo, hi = _pair(state.widget_value("lv_iv_steps"), steps)
        state.set_widget("lv_iv_steps", (lo, hi))
        start, last = c3.slider("Steps", 0, steps - 1, key="lv_iv_steps")
    else:
        start = last = 0
    picked = tuple(sorted(int(u) for u in units)) or None
    where = dict(layer=layer, units=picked, start=int(start), stop=int(last) + 1)
    where["direction"] = direction if tr.num_directions > 1 else None
    if mode == "clamp":
        spec = (ClampSpec(name, float(value), **where),)
    else:
        spec = tuple(ClampSpec(n, 0.0, **where) for n in ("cell", "hidden") if n in names)
    try:
        for c in spec:
            c.clamp()  # the engine's own checks, e.g. a sigmoid gate outside 0..1
    except ValueError as err:
        show_error("This clamp cannot be applied", err)
        return None
    return spec


def _where(src, tr, step: int) -> dict[str, int]:
    """The steps whose prediction is shown: now, the cue task's answer step, the last step."""
    labels = tr.labels or [str(t) for t in range(tr.steps)]
    found = {f"now (step {step})": step}
    answer = answer_step(labels, src.extra)
    if answer is not None and answer not in found.values():
        found[f"answer (step {answer})"] = answer
    if tr.steps - 1 not in found.values():
        found[f"last (step {tr.steps - 1})"] = tr.steps - 1
    return found


def _prediction_ui(
    src, tr, preds, tr2, preds2, step: int, clamped: bool
) -> tuple[str, np.ndarray, np.ndarray] | None:
    """The predictions before (and after) at a few steps, as a table and bars; returns the
    output to follow over time (name, before (T,), after (T,)), None for a bare core."""
    where = _where(src, tr, step)
    labels = tr.labels or [str(t) for t in range(tr.steps)]
    rows = list(where.values())
    table: dict[str, list] = {"where": list(where), "input": [labels[s] for s in rows]}
    if preds is None:  # a bare core: its output is the top layer's hidden state
        table["output norm before"] = [float(np.linalg.norm(tr.output[s])) for s in rows]
        if clamped:
            diff = [float(np.linalg.norm(tr2.output[s] - tr.output[s])) for s in rows]
            table["size of the change"] = diff
        st.dataframe(table, hide_index=True, key="lv_iv_table")
        st.caption("This module has no head, so its output is the top layer's hidden state.")
        return
    config = src.model.config if isinstance(src.model, SequenceModel) else None
    if preds.shape[1] > 1:
        names = (config.output_labels or config.vocab) if config else None
        if not names or len(names) != preds.shape[1]:
            names = [f"out {k}" for k in range(preds.shape[1])]
        p, p2 = src.model.readout(preds), src.model.readout(preds2)
        best = [int(np.argmax(p[s])) for s in rows]
        table["answer before"] = [names[k] for k in best]
        table["p before"] = [float(p[s, k]) for s, k in zip(rows, best, strict=True)]
        if clamped:
            best2 = [int(np.argmax(p2[s])) for s in rows]
            table["answer after"] = [names[k] for k in best2]
            table["p after"] = [float(p2[s, k]) for s, k in zip(rows, best2, strict=True)]
        st.dataframe(table, hide_index=True, key="lv_iv_table")
        if clamped:
            fig = figures.prediction_change_figure(names, p[rows], p2[rows], list(where))
            st.plotly_chart(fig, key="lv_iv_pred", theme=None, config=CHART)
        # follow the class the trained model gives where it must answer (cue task) or at the end
        labels_all = tr.labels or [str(t) for t in range(tr.steps)]
        focus = answer_step(labels_all, src.extra)
        k = int(np.argmax(p[tr.steps - 1 if focus is None else focus]))
        return names[k], p[:, k], p2[:, k]
    label = (config.output_labels or ["output"])[0] if config else "output"
    # a forecast model's values in the data's units
    before, after = src.model.readout(preds)[:, 0], src.model.readout(preds2)[:, 0]
    table["before"] = [float(before[s]) for s in rows]
    if clamped:
        table["after"] = [float(after[s]) for s in rows]
        table["change"] = [a - b for a, b in zip(table["after"], table["before"], strict=True)]
    st.dataframe(table, hide_index=True, key="lv_iv_table")
    return label, before, after


def _difference_ui(tr, tr2, layer: int, direction: int, spec: tuple[ClampSpec, ...]) -> None:
    names = [n for n in ("cell", "hidden") if n in tr.names]
    names = [n for n in names if tr.units(n) == tr.units(names[0])]
    labels = tr.labels or [str(t) for t in range(tr.steps)]
    delta = {
        f"{n}: after − before": tr2.gate(n, layer, direction) - tr.gate(n, layer, direction)
        for n in names
    }
    marks = np.zeros_like(next(iter(delta.values())), dtype=bool)
    for n in tr2.names:
        m = tr2.clamped(n, layer, direction)
        if m.shape == marks.shape:
            marks |= m
    change = np.abs(np.stack(list(delta.values()))).max(axis=(0, 1))  # (units,)
    order = [int(u) for u in np.argsort(-change, kind="stable")][: gates.DEFAULT_UNITS]
    width = gates.window_steps(len(order), tr.steps)
    first = min(c.start for c in spec)
    start = min(max(first - 10, 0), tr.steps - width)
    cell = clicked_cell(["lv_iv_diff"], "lv_clicks_intervene")
    if cell is not None and 0 <= cell["row"] < len(order) and 0 <= cell["col"] < width:
        state.go_to(step=start + cell["col"], unit=order[cell["row"]], rerun=True)
    shown = marks[start : start + width][:, order]  # (W, U)
    whole = shown.all(axis=1)  # steps where every unit shown is clamped
    outline = shown.any() and bool((shown == whole[:, None]).all())
    fig = figures.gate_heatmaps(
        delta,
        labels,
        order,
        (start, start + width),
        # a clamp of every unit would bury the map under x's: outline its steps instead
        clamped=None if outline else {n: marks for n in delta},
        row_height=int(np.clip(6 * len(order), 80, 220)),
    )
    if outline:
        edges = np.flatnonzero(np.diff(np.r_[0, whole.astype(int), 0]))  # run starts, stops
        for k in range(len(delta)):
            for a, b in zip(edges[::2], edges[1::2], strict=True):
                fig.add_shape(
                    type="rect",
                    xref="x",
                    yref=("y" if k == 0 else f"y{k + 1}") + " domain",
                    x0=a - 0.5,
                    x1=b - 0.5,
                    y0=0,
                    y1=1,
                    line=dict(color="black", width=1.5, dash="dash"),
                )
    st.plotly_chart(fig, key="lv_iv_diff", theme=None, config=CHART)
    peak = float(change.max()) if change.size else 0.0
    st.caption(
        f"After minus before, for layer {layer}; units ordered by how much they changed "
        f"(largest |change| {peak:.4g}, unit {order[0]}). "
        + ("A dashed box" if outline else "×")
        + " marks the clamped steps and units."
        + (f" Showing steps {start}..{start + width - 1}." if width < tr.steps else "")
    )


def intervene_view(src, tr, preds, trace_id: str) -> None:
    """Draw the intervene view for the chosen source and its cached trace."""
    c1, c2 = st.columns([3, 1])
    with c1:
        step = step_picker(tr.steps)
    with c2:
        layer, direction = where_ui(tr)
    left, right = st.columns([1, 1], gap="medium")
    with left:
        pending = _controls(tr, layer, direction)
        b1, b2, b3 = st.columns(3)
        b1.button(
            "Apply",
            key="lv_iv_apply",
            on_click=_apply,
            args=(pending or (),),
            disabled=pending is None,
            type="primary",
        )
        b2.button(
            "Add to the clamps",
            key="lv_iv_add",
            on_click=_apply,
            args=(pending or (), True),
            disabled=pending is None,
        )
        spec = state.place().clamps
        b3.button("Reset", key="lv_iv_reset", on_click=_reset, disabled=not spec)
        experiments.experiments_ui(src, tr, layer, step)
    tr2, preds2 = tr, preds
    if spec:
        try:
            tr2, preds2 = intervened(trace_id, src.model, src.x, tuple(tr.labels or ()), spec)
        except ValueError as err:
            show_error("Could not apply these clamps", err)
            spec = ()
    with right:
        if spec:
            st.markdown("**Clamped:** " + "; ".join(plain(c.describe()) for c in spec))
        else:
            st.markdown("**No clamp applied**: the network as trained.")
        curve = _prediction_ui(src, tr, preds, tr2, preds2, step, bool(spec))
    if not spec:
        st.caption("Apply a clamp (or a suggested experiment) to see before and after.")
        return
    if curve is not None:
        what, before, after = curve
        span = (min(c.start for c in spec), max(c.stop for c in spec))
        title = f"probability of {what!r}" if preds.shape[1] > 1 else str(what)
        labels = tr.labels or [str(t) for t in range(tr.steps)]
        fig = figures.output_change_figure(before, after, labels, title, span=span, marks=None)
        st.plotly_chart(fig, key="lv_iv_curve", theme=None, config=CHART)
    _difference_ui(tr, tr2, layer, direction, spec)
