"""lstm_viz in the browser: `streamlit run app.py`.

main() only lays out the page; each panel lives in lstm_viz/ui/. Views are listed in
`VIEWS` and picked with a segmented control (only the chosen one runs): a new view is one function
taking (source, trace, outputs, trace_id) and one entry there.
"""

from __future__ import annotations

import hashlib

import streamlit as st
import torch

from lstm_viz.ui import gates
from lstm_viz.ui.common import plain, show_error
from lstm_viz.ui.compare_view import compare_view
from lstm_viz.ui.explain import explain_ui
from lstm_viz.ui.export_panel import export_ui
from lstm_viz.ui.find_cell_view import find_cell_view
from lstm_viz.ui.forecast_view import forecast_view
from lstm_viz.ui.intervene_view import intervene_view
from lstm_viz.ui.lesson_view import lesson_view
from lstm_viz.ui.loaders import run_trace
from lstm_viz.ui.memory_view import memory_view
from lstm_viz.ui.source import Source, source_ui
from lstm_viz.ui.step import step_fragment


def gates_view(src: Source, tr, preds, trace_id: str) -> None:
    """Step through the input and watch every gate: heatmaps left, the cell at this step right."""
    view = gates.view_ui(tr, src.x)
    left, right = st.columns([1.25, 1], gap="medium")
    with left:
        gates.heatmaps_panel(tr, trace_id, view)
        explain_ui(tr.kind)
        export_ui(tr, trace_id, view)
    with right:
        step_fragment(src, tr, preds, view)


VIEWS = {
    "Gates, step by step": gates_view,
    "Memory": memory_view,
    "Intervene": intervene_view,
    "Find a cell": find_cell_view,
    "RNN vs GRU vs LSTM": compare_view,
    "Forecast": forecast_view,
    "Lesson": lesson_view,
}


# the shared widgets each view draws itself (keys used across views)
DRAWS = {
    "Gates, step by step": ("lv_step", "lv_pinned"),
    "Memory": ("lv_step",),
    "Intervene": ("lv_step",),
}


def main() -> None:
    st.set_page_config(page_title="lstm_viz", page_icon="🔬", layout="wide")
    torch.set_num_threads(1)  # a classroom server shares its cores between sessions
    src = source_ui()
    if src is None:
        st.title("lstm_viz")
        st.info("Choose a model and an input in the sidebar.")
        return
    try:
        tr, preds = run_trace(src.model_key, src.model, src.x, tuple(src.labels))
    except ValueError as err:
        show_error("Could not trace this input", err)
        return
    digest = hashlib.sha256(src.x.tobytes() + "\x00".join(src.labels).encode()).hexdigest()
    trace_id = f"{src.model_key}:{digest[:16]}"
    st.markdown(f"#### {plain(src.title)} · {tr.steps} steps")
    # only the chosen view runs: tabs would compute every view on every rerun
    st.session_state.setdefault("lv_view", next(iter(VIEWS)))  # a view may set it (find a cell)
    name = st.segmented_control("View", list(VIEWS), key="lv_view", label_visibility="collapsed")
    name = name or next(iter(VIEWS))
    # widget state lives only while its widget is drawn: carry the step and the pinned units
    # through a view that does not draw them (only then: rewriting a drawn widget's value would
    # fight the browser's newer one while the user holds an arrow key)
    for key in {"lv_step", "lv_pinned"} - set(DRAWS.get(name, ())):
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]
    VIEWS[name](src, tr, preds, trace_id)


if __name__ == "__main__":
    main()
