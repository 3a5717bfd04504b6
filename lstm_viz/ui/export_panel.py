"""Downloads: the trace (.npz, long CSV) and figures as standalone offline HTML.

Files are made only when asked for ("Prepare"), so a normal rerun never builds a multi-MB
export; the prepared file is kept in session state until the input or choice changes.
"""

from __future__ import annotations

import streamlit as st

from lstm_viz import export
from lstm_viz.limits import MAX_EXPORT_ROWS
from lstm_viz.ui import gates, state
from lstm_viz.ui.cell import diagram_figure
from lstm_viz.ui.common import own_copy, show_error

EXPORT = "export"  # the prepared file, kept in the session until the next one

KINDS = {
    "explorer": "step-through page (.html: steps in the browser, no server, offline)",
    "npz": "trace (.npz, numpy)",
    "csv": "trace (.csv, long format)",
    "heatmaps": "heatmaps (.html, interactive, offline)",
    "diagram": "cell diagram at this step (.html, offline)",
}


def _make(kind: str, tr, trace_id: str, view) -> tuple[bytes | str, str, str]:
    start, stop = view.window
    step = min(max(state.place().step, start), stop - 1)  # the marker's step, inside the window
    if kind == "explorer":
        import lstm_viz

        page = lstm_viz.trace_html(
            tr, layer=view.layer, direction=view.direction, units=list(view.units),
            window=view.window, step=step,
        )  # fmt: skip
        return page, "explorer.html", "text/html"
    if kind == "npz":
        return export.trace_npz(tr), "trace.npz", "application/octet-stream"
    if kind == "csv":
        return export.trace_csv(tr), "trace.csv", "text/csv"
    if kind == "heatmaps":
        import plotly.graph_objects as go

        spec = gates.heatmap_spec(
            trace_id, tr, view.layer, view.direction, tuple(view.units), view.window
        )
        return (
            export.figure_html(go.Figure(own_copy(spec)), "lstm_viz heatmaps", step=step),
            "heatmaps.html",
            "text/html",
        )
    here = state.place()
    unit = here.unit if here.unit in view.units else view.units[0]
    fig = diagram_figure(tr, view.layer, view.direction, min(step, tr.steps - 1), unit)
    return export.figure_html(fig, "lstm_viz cell"), f"cell_step{step}.html", "text/html"


def export_ui(tr, trace_id: str, view) -> None:
    """Pick what to export, prepare it, download it."""
    with st.expander("Export", expanded=False):
        kind = st.selectbox("What", list(KINDS), format_func=KINDS.get, key="lv_export_kind")
        step = state.place().step  # a prepared file is for the step it marks
        tag = (trace_id, kind, view.layer, view.direction, tuple(view.units), view.window, step)
        if kind == "csv" and export.csv_rows(tr) > MAX_EXPORT_ROWS:
            st.caption(
                f"This trace makes {export.csv_rows(tr):,} CSV rows; CSV exports stop at "
                f"{MAX_EXPORT_ROWS:,}. Export the .npz (the same numbers, smaller), or a shorter "
                "input."
            )
            return
        if st.button("Prepare file", key="lv_export_prepare"):
            with st.spinner("Preparing…"):
                try:
                    state.stash(EXPORT, (tag, *_make(kind, tr, trace_id, view)))
                except ValueError as err:
                    show_error("Could not export this", err)
        ready = state.stashed(EXPORT)
        if ready and ready[0] == tag:
            _, data, name, mime = ready
            size = len(data) / 1e6
            st.download_button(
                f"Download {name} ({size:.1f} MB)",
                data,
                file_name=name,
                mime=mime,
                key="lv_export_download",
                on_click="ignore",
            )
