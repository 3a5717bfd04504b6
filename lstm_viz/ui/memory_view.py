"""The memory view: how long does a unit remember?

For one unit and the current step: the share of what was written at each earlier step that still
survives in its cell (the product of the forget gates since), the saliency of the current output
over every earlier input (gradient norms), and how often each gate sits shut or wide open
(saturation, Karpathy, Johnson & Fei-Fei 2015). Everything comes from cached traces and cached
analysis (`analysis_cache`); only the figures of the chosen unit and step are drawn per run.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from lstm_viz import analysis, figures
from lstm_viz.ui import state
from lstm_viz.ui.analysis_cache import (
    answer_step,
    cue_step,
    saliency_curve,
    saturation_all,
)
from lstm_viz.ui.clicks import clicked_cell
from lstm_viz.ui.common import CHART, show_error

CELLS = 40_000  # values in the retention heatmap at most (steps x units), as in the gates view


def step_picker(steps: int, label: str = "Step") -> int:
    """The step slider: the same place as the gates view's, so every view shows one step."""
    if steps < 2:
        return 0
    return int(st.slider(label, 0, steps - 1, **state.bind("step")))


def where_ui(tr) -> tuple[int, int]:
    """Layer and direction pickers (only drawn when there is a choice), shared by every view."""
    layers, directions = list(range(tr.num_layers)), list(range(tr.num_directions))
    if tr.num_layers > 1:
        st.selectbox("Layer", layers, **state.bind("layer", layers))
    if tr.num_directions > 1:
        st.selectbox(
            "Direction",
            directions,
            format_func=lambda d: ("forward", "backward")[d],
            **state.bind("direction", directions),
        )
    here = state.place()
    return int(here.layer), int(here.direction)


def _marks(src, tr, step: int) -> dict[str, int]:
    labels = tr.labels or [str(t) for t in range(tr.steps)]
    marks = {}
    cue = cue_step(labels, src.extra)
    if cue is not None:
        marks["cue"] = cue
    answer = answer_step(labels, src.extra)
    if answer is not None and answer != step:
        marks["answer"] = answer
    return marks


def _retention_ui(tr, layer: int, direction: int, step: int, marks: dict) -> None:
    st.markdown("##### What is still in memory at this step")
    try:
        kept, written, gate, first = analysis.retention(tr, layer, step, direction)
    except ValueError as err:
        st.info(str(err).capitalize() + ".")
        return
    n_units = kept.shape[1]
    held = "cell" if tr.kind == "lstm" else "hidden state"
    if state.place().unit is None:
        # start on the unit whose gate keeps the most over the input: one that remembers
        state.settle(unit=int(np.argmax(tr.gate(gate, layer, direction).mean(axis=0))))
    everyone = list(range(n_units))
    unit = int(st.selectbox("Unit", everyone, **state.bind("unit", everyone)))
    labels = (tr.labels or [str(t) for t in range(tr.steps)])[first : first + kept.shape[0]]
    # keep the heatmap under CELLS values: the steps nearest the current one, the first units
    rows = list(range(min(n_units, 128)))
    if unit not in rows:
        rows = [unit, *rows[:-1]]
    width = max(50, CELLS // len(rows))
    if kept.shape[0] > width:
        cut = slice(kept.shape[0] - width, None) if direction == 0 else slice(0, width)
        first += cut.start or 0
        kept, written, labels = kept[cut], written[cut], labels[cut]
        st.caption(f"Showing the {width} steps nearest step {step}.")
    cell = clicked_cell(["lv_mem_retention"], "lv_clicks_memory")
    if cell is not None and 0 <= cell["row"] < len(rows) and 0 <= cell["col"] < kept.shape[0]:
        state.go_to(step=first + cell["col"], unit=rows[cell["row"]], rerun=True)
    fig = figures.retention_figure(
        kept, written, labels, unit, step, gate=gate, marks=marks, first=first, units=rows
    )
    st.plotly_chart(fig, key="lv_mem_retention", theme=None, config=CHART)
    here = float(np.sum(kept[:, unit] * written[:, unit]))
    st.caption(
        f"Blue line: of what unit {unit} wrote into its {held} at each step, the share still "
        f"there at step {step} (the product of the {gate} gates in between). Bars (red "
        f"positive, blue negative): how much of that write survives; they add up to the "
        f"{held} itself ({here:.4g} here, "
        "from the zero state). The heatmap shows the share for every unit."
    )


def _saliency_ui(src, tr, step: int, trace_id: str, marks: dict) -> None:
    st.markdown("##### Which earlier inputs the output here depends on")
    log = st.toggle("Log scale (shows a vanishing gradient as a slope)", key="lv_mem_log")
    try:
        sal = saliency_curve(trace_id, src.model, src.x, step)
    except ValueError as err:
        show_error("Could not compute saliency", err)
        return
    labels = tr.labels or [str(t) for t in range(tr.steps)]
    fig = figures.saliency_figure(sal, labels, step, log=log, marks=marks)
    st.plotly_chart(fig, key="lv_mem_saliency", theme=None, config=CHART)
    what = "its largest output (the predicted answer's score)"
    if getattr(src.model, "config", None) is None:
        what = "the top layer's largest hidden value (this module has no head)"
    ratio = ""
    early = marks.get("cue", 0)  # the cue on cue models, else the first input
    if early < step and sal[step] > 0:
        which = f"the cue (step {early})" if "cue" in marks else "the first input"
        times = sal[early] / sal[step]
        ratio = f" On this input {which} gets {times:.3g}× the gradient of the current one."
    st.caption(
        f"Gradient norm of {what} at step {step} with respect to the input the recurrent core "
        "read at each step (after any embedding); in one direction, later inputs cannot "
        f"matter.{ratio}"
    )


def _saturation_ui(tr, layer: int, direction: int, trace_id: str) -> None:
    st.markdown("##### Gate saturation")
    fractions = saturation_all(trace_id, tr, layer, direction)
    if not fractions:
        st.info(
            "A plain RNN has no gates (no values squashed into 0..1), so there is no "
            "saturation to show."
        )
        return
    st.plotly_chart(
        figures.saturation_figure(fractions), key="lv_mem_saturation", theme=None, config=CHART
    )
    lines = []
    for name, (low, high) in fractions.items():
        n = len(low)
        lines.append(
            f"{name}: {int((high > 0.5).sum())} of {n} units open (> 0.9) on most steps, "
            f"{int((low > 0.5).sum())} shut (< 0.1) on most steps"
        )
    st.caption(
        "Each point is a unit: how often its gate is shut (x) or wide open (y) on this input. "
        "Units near the top left stay open (a forget gate there remembers); units near the "
        "diagonal switch between the two, like a valve. " + "; ".join(lines) + "."
    )


def memory_view(src, tr, preds, trace_id: str) -> None:
    """Draw the memory view for the chosen source and its cached trace."""
    c1, c2 = st.columns([3, 1])
    with c1:
        step = step_picker(tr.steps)
    with c2:
        layer, direction = where_ui(tr)
    marks = _marks(src, tr, step)
    left, right = st.columns([1.3, 1], gap="medium")
    with left:
        _retention_ui(tr, layer, direction, step, marks)
    with right:
        _saliency_ui(src, tr, step, trace_id, marks)
        _saturation_ui(tr, layer, direction, trace_id)
