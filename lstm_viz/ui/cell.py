"""The cell at this step: the diagram for one unit with live numbers, every unit's values at this
step, and what the model predicts here."""

from __future__ import annotations

import numpy as np
import streamlit as st

from lstm_viz import figures
from lstm_viz.models import SequenceModel
from lstm_viz.trace_result import LSTMTrace
from lstm_viz.ui import state
from lstm_viz.ui.common import plain
from lstm_viz.ui.gates import map_names
from lstm_viz.ui.why_panel import why_panel

SIDE_PX = 400  # presenter mode: the side column's width at 1280x720 (a lower bound), in px


def unit_values(tr: LSTMTrace, layer: int, direction: int, step: int, unit: int) -> dict:
    """Every name's value for one unit at one step, plus the previous cell and hidden state
    (zeros before the first step: the app traces from the zero state)."""
    out = {
        n: float(tr.gate(n, layer, direction)[step, unit]) for n in tr.names if unit < tr.units(n)
    }
    # direction 1 runs backwards in time: its "previous" step is the next one
    prev = step - 1 if direction == 0 else step + 1
    inside = 0 <= prev < tr.steps
    for name, key in (("cell", "c_prev"), ("hidden", "h_prev")):
        if name in tr.names and unit < tr.units(name):
            out[key] = float(tr.gate(name, layer, direction)[prev, unit]) if inside else 0.0
    return out


def diagram_figure(tr: LSTMTrace, layer: int, direction: int, step: int, unit: int):
    values = unit_values(tr, layer, direction, step, unit)
    token = (tr.labels or [""] * tr.steps)[step]
    return figures.cell_diagram(tr.kind, values, unit, step, token)


def prediction_ui(model, preds: np.ndarray | None, step: int, sized: dict | None = None) -> None:
    """Top outputs with probabilities, or the (unscaled) forecast value, at this step."""
    if preds is None:
        st.caption(
            "This module has no head: its output is the top layer's hidden state, "
            "shown in the heatmaps."
        )
        return
    out = np.asarray(preds[step], dtype=np.float64)
    config = model.config if isinstance(model, SequenceModel) else None
    names = (config.output_labels or config.vocab) if config else None
    if out.size > 1:
        names = names if names and len(names) == out.size else [f"out {k}" for k in range(out.size)]
        bars = figures.prediction_bars(names, model.readout(out), step, **(sized or {}))
        st.image(bars, width="stretch")
        return
    label = names[0] if names else "output"
    value = float(model.readout(out)[0])  # a forecast model's value in the data's units
    st.metric(f"Model output after step {step}: {label}", f"{value:.4g}")


def cell_panel(src, tr: LSTMTrace, preds, view, step: int) -> int:
    """Draw the per-step panel; returns the unit shown in the diagram."""
    unit = state.place().unit  # picked above the fragment
    unit = unit if unit in view.units else view.units[0]
    token = (tr.labels or [""] * tr.steps)[step]
    st.markdown(f"**Step {step}** · input: {plain(token[:60])}")
    # drawn as inline SVG: a Plotly chart whose figure changes is remounted by Streamlit at
    # every step, which cost more than everything else in a step (see bench/app_speed.py)
    values = unit_values(tr, view.layer, view.direction, step, unit)
    where = dict(layer=view.layer, direction=view.direction)
    big, side = st.columns([1.5, 1]) if view.font else (st.container(), st.container())
    if view.font:  # presenter mode: each panel laid out for the width it gets at 1280x720
        where |= dict(min_px=view.font, width_px=figures.diagram_width(tr.kind, view.font))
    with big.container(key="lv_cell_diagram"):
        svg = figures.cell_diagram_svg(tr.kind, values, unit, step, token, **where)
        st.image(svg, width="stretch")
    strip = {n: tr.gate(n, view.layer, view.direction)[step] for n in map_names(tr)}
    sized = dict(min_px=view.font, width_px=SIDE_PX) if view.font else {}
    with side.container(key="lv_unit_strip"):
        st.image(figures.unit_strip(strip, view.units, step, **sized), width="stretch")
    if state.widget_value("lv_exact"):  # the exact numbers, only when asked for
        table = {"unit": view.units} | {n: v[view.units] for n, v in strip.items()}
        st.dataframe(table, hide_index=True, height=240, key="lv_exact_table")
    with side:
        prediction_ui(src.model, preds, step, sized)
    why_panel(src, tr, view, step, unit)
    return unit
