"""Why did this gate take its value? For the diagram's unit at this step: the gate's
pre-activation as terms (what it reads, what it remembers, its biases) that add up to the value on
the heatmap, as a waterfall; and over the whole input, the part it reads beside the part it
remembers (`lstm_viz.gate_terms`, `lstm_viz.gate_drivers`). Drawn only when asked for."""

from __future__ import annotations

import streamlit as st

from lstm_viz import figures
from lstm_viz.gate_terms import gate_drivers, gate_terms
from lstm_viz.ui.common import CHART, plain, show_error

GATES = {
    "lstm": ["forget", "input", "candidate", "output"],
    "gru": ["update", "reset", "new"],
}


def core_of(model):
    """The recurrent module a trace was made from (a model's core, or the bare module)."""
    return getattr(model, "core", model)


def why_panel(src, tr, view, step: int, unit: int) -> None:
    if not st.toggle("Why this value? The gate's formula, term by term", key="lv_why"):
        return
    names = GATES.get(tr.kind, ["hidden"])
    name = st.selectbox("Gate", names, key="lv_why_gate") if len(names) > 1 else names[0]
    token = (tr.labels or [""] * tr.steps)[step]
    try:
        terms = gate_terms(tr, core_of(src.model), name, unit, step, view.layer, view.direction,
                           input_label=f"input ({token[:20]})")  # fmt: skip
        drivers = gate_drivers(tr, core_of(src.model), name, unit, view.layer, view.direction)
    except ValueError as err:
        show_error("Cannot split this gate into terms", err)
        return
    shown = terms.grouped() if getattr(src.model, "is_token_model", False) else terms.terms
    title = f"{name}, unit {unit}, step {step}"
    fig = figures.terms_waterfall(list(shown), list(shown.values()), terms.preactivation,
                                  terms.value, terms.squash, title)  # fmt: skip
    st.plotly_chart(fig, key="lv_why_terms", theme=None, config=CHART)
    if terms.clamped:
        st.caption("A clamp set this gate here: the terms show what the network would have had.")
    st.caption(
        f"{terms.squash}({terms.preactivation:+.3f}) = {terms.value:.3f}: what it reads "
        f"{terms.input_total:+.3f}, what it remembers (W·h(t-1)) {terms.recurrent_total:+.3f}, "
        f"biases {terms.bias_total:+.3f}. The largest memory terms are listed by unit; "
        f"{plain(name)} on the heatmap is {terms.traced:.3f}."
    )
    title = f"{name} of unit {unit}: read vs remembered"
    lines = figures.drivers_lines(drivers.input, drivers.recurrent, drivers.bias, step,
                                  tr.labels, title)  # fmt: skip
    st.plotly_chart(lines, key="lv_why_lines", theme=None, config=CHART)
