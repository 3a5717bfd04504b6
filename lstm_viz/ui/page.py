"""The page: `main()` lays it out on every run; each panel lives in the other lstm_viz/ui modules.

Where the user is (model, input, view, step, unit, ...) is owned by `lstm_viz/ui/state.py`: views
read it and ask it to move. Views are listed in `VIEWS` and picked with a segmented control (only
the chosen one runs): a new view is one function taking (source, trace, outputs, trace_id), one
entry here and a link id in `ui/place.py`. `app.py` at the repository's root runs `main()`.
"""

from __future__ import annotations

import hashlib
import logging

import streamlit as st
import torch

from lstm_viz.ui import classroom, first_paint, gates, server_memory, state
from lstm_viz.ui.clicks import clicked_cell
from lstm_viz.ui.common import plain, show_error
from lstm_viz.ui.compare_view import compare_view
from lstm_viz.ui.corpus_view import corpus_view
from lstm_viz.ui.explain import explain_ui
from lstm_viz.ui.export_panel import export_ui
from lstm_viz.ui.find_cell_view import find_cell_view
from lstm_viz.ui.forecast_view import forecast_view
from lstm_viz.ui.intervene_view import intervene_view
from lstm_viz.ui.lesson_view import lesson_view
from lstm_viz.ui.loaders import run_trace
from lstm_viz.ui.memory_view import memory_view
from lstm_viz.ui.place import VIEWS as VIEW_TITLES
from lstm_viz.ui.source import Source, source_ui
from lstm_viz.ui.step import step_fragment

log = logging.getLogger("lstm_viz")
# presenter mode: no sidebar or header, less padding, larger type (Streamlit sizes text in rem)
PRESENT_CSS = """<style>
html {font-size: 20px}
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stHeader"]
  {display: none}
[data-testid="stMainBlockContainer"] {padding: 0.6rem 1.2rem 2rem; max-width: 100%}
</style>"""


def gates_view(src: Source, tr, preds, trace_id: str) -> None:
    """Step through the input and watch every gate: heatmaps left, the cell at this step right
    (in presenter mode the maps take most of the width, the other controls fold away)."""
    present = state.place().present
    if present:
        with st.expander("More controls: layer, direction, unit order, pins"):
            view = gates.view_ui(tr, src.x)
    else:
        view = gates.view_ui(tr, src.x)
    cell = clicked_cell([gates.HEATMAP_KEY], "lv_clicks_gates")
    if cell is not None:  # a click on a heatmap cell: that step and unit, everywhere
        gates.go_to_cell(view, cell)
    if present:  # the maps across the page; the step and its cell below them
        gates.heatmaps_panel(tr, trace_id, view, src.unknown)
        step_fragment(src, tr, preds, view)
        return
    left, right = st.columns([1.25, 1], gap="medium")
    with left:
        gates.heatmaps_panel(tr, trace_id, view, src.unknown)
        explain_ui(tr.kind)
        export_ui(tr, trace_id, view)
    with right:
        step_fragment(src, tr, preds, view)


VIEWS = {  # link id (see ui/place.py) -> the function that draws the view
    "gates": gates_view,
    "memory": memory_view,
    "intervene": intervene_view,
    "find": find_cell_view,
    "corpus": corpus_view,
    "compare": compare_view,
    "forecast": forecast_view,
    "lesson": lesson_view,
}


def _core_sizes(tr) -> tuple[int, int, int, int]:
    """(steps, units on the maps, layers, directions) of a trace: the ranges of the place."""
    return tr.steps, tr.units(gates.map_names(tr)[0]), tr.num_layers, tr.num_directions


def main() -> None:
    server_memory.tune()  # before anything is traced: sessions that come and go leave no memory
    # presenter mode: the sidebar starts collapsed (it came first on a present=1 link, then was
    # folded away by PRESENT_CSS a few tenths of a second later)
    sidebar = "collapsed" if state.place().present else "expanded"
    st.set_page_config(
        page_title="lstm_viz", page_icon="🔬", layout="wide", initial_sidebar_state=sidebar
    )
    torch.set_num_threads(1)  # a classroom server shares its cores between sessions
    fresh = state.is_fresh()  # this session's first run: the place came from the link
    if state.place().present:
        st.html(PRESENT_CSS)
    classroom.banner()
    notes = st.container()
    src = source_ui()
    if src is None:
        st.title("lstm_viz")
        st.info("Choose a model and an input in the sidebar.")
        state.write_link()
        return
    try:
        tr, preds = run_trace(src.model_key, src.model, src.x, tuple(src.labels))
    except ValueError as err:
        show_error("Could not trace this input", err)
        return
    state.fit(*_core_sizes(tr), from_link=fresh)
    with notes:
        for text in state.notes():
            st.info(plain(text), icon="ℹ️")
    digest = hashlib.sha256(src.x.tobytes() + "\x00".join(src.labels).encode()).hexdigest()
    trace_id = f"{src.model_key}:{digest[:16]}"
    present = state.place().present
    if not present:
        st.markdown(f"#### {plain(src.title)} · {tr.steps} steps")
    # only the chosen view runs: tabs would compute every view on every rerun
    titles = list(VIEW_TITLES.values())
    nav, extra = st.columns([6, 1]) if present else (st.container(), None)
    nav.segmented_control(
        "View", titles, label_visibility="collapsed", **state.bind("view", titles)
    )
    if extra is not None:  # presenter mode: the sidebar is folded away, its classroom part is here
        with extra.popover("Presenter", width="stretch"):
            classroom.presenter_ui()
    view = state.place().view
    first_paint.begin(fresh, view)
    if view != "gates":  # the gates view shows the link beside its step controls
        state.link_ui()
    try:
        VIEWS[view](src, tr, preds, trace_id)
    except Exception as err:  # a view must never show a traceback to a user (issue: no crash box)
        log.exception("view %s failed", view)
        st.error(
            f"This view could not be drawn for this model and input ({type(err).__name__}: "
            f"{plain(str(err)[:300])}). Try another input, model or view; the other views still "
            "work.",
            icon="⚠️",
        )
    state.write_link()
    first_paint.finish()
    classroom.publish()
    if classroom.following() and view != "gates":  # the gates view follows in its fragment
        classroom.follow_fragment()
