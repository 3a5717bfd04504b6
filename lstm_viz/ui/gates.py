"""The gate heatmaps and their controls: layer, direction, unit order and filter, time window.

The heatmap figure is drawn once per choice of these controls and never per step: the step
marker is a CSS overlay placed by the step fragment (see `step.marker_css`), so stepping sends a
few hundred bytes instead of the maps. Long inputs show a window of at most `window_steps` steps
at full resolution plus an overview of the whole sequence.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from lstm_viz import analysis, figures
from lstm_viz.cells import SIGMOID_NAMES
from lstm_viz.trace_result import LSTMTrace
from lstm_viz.ui import first_paint, state
from lstm_viz.ui.budget_cache import cached
from lstm_viz.ui.common import CHART, own_copy, show_error

ORDER = {
    "unit": "unit number",
    "variance": "variance over time (largest first)",
    "saturation": "saturation: time below 0.1 or above 0.9 (most first)",
    "correlation": "correlation with a signal (|r| largest first)",
}
CELLS_PER_MAP = 40_000  # units x steps drawn per map: six maps stay under 2 MB of JSON even for
# random data (whose base64 holds more "/", which Plotly escapes as 6 characters)
HEATMAP_KEY, OVERVIEW_KEY = "lv_heatmaps", "lv_overview"
TOP_KEY, WINDOW_KEY = "lv_top_k", "lv_window_start"
PRESENT_FONT = 16  # px of every text a room must read (presenter mode)
DEFAULT_UNITS = 128  # rows shown at first; wider cores show their first 128 in the chosen order


@dataclass
class View:
    layer: int
    direction: int
    units: list[int]  # rows shown, in order
    window: tuple[int, int]  # steps drawn at full resolution: [start, stop)
    steps: int  # length of the whole sequence
    font: int | None = None  # px of every text on the maps (presenter mode: 16)
    highlight: int | None = None  # the diagram unit's row, outlined on every map (presenter mode)

    @property
    def has_overview(self) -> bool:
        return self.window != (0, self.steps)


def window_steps(n_units: int, steps: int) -> int:
    """Steps drawn at once for this many unit rows (all of them when they fit the budget)."""
    fit = max(100, CELLS_PER_MAP // max(n_units, 1) // 50 * 50)
    return min(steps, fit)


def map_names(tr: LSTMTrace) -> list[str]:
    """Maps drawn, in reading order (forget first, as the gates are usually taught); a projected
    hidden state (proj_size) has other units than the cell and is left out of the stack."""
    first = [n for n in ("forget", "input", "candidate", "output") if n in tr.names]
    names = first + [n for n in tr.names if n not in first]
    return [n for n in names if tr.units(n) == tr.units(names[0])]


def _signal(tr: LSTMTrace, x: np.ndarray) -> tuple[np.ndarray | None, str]:
    labels = tr.labels or [str(t) for t in range(tr.steps)]
    choices = ["step index"]
    numeric = np.issubdtype(np.asarray(x).dtype, np.floating)
    choices += ["input value"] if numeric else ["a token is present"]
    kind = st.selectbox("Signal", choices, key="lv_signal")
    if kind == "step index":
        return np.arange(tr.steps, dtype=np.float64), kind
    if kind == "input value":
        return np.asarray(x, dtype=np.float64).reshape(tr.steps, -1)[:, 0], kind
    tokens = sorted(set(labels))
    token = st.selectbox("Token", tokens, key="lv_signal_token")
    return np.array([s == token for s in labels], dtype=np.float64), f"token {token!r}"


def _order(tr: LSTMTrace, layer: int, direction: int, x: np.ndarray) -> list[int]:
    """Units in the order the user asked for (the ranking uses the chosen map)."""
    order = st.selectbox("Order units by", list(ORDER), format_func=ORDER.get, key="lv_order")
    n_units = tr.units(tr.names[0])
    if order == "unit":
        return list(range(n_units))
    names = [n for n in map_names(tr) if order != "saturation" or n in SIGMOID_NAMES]
    if not names:
        st.caption("This core has no sigmoid gates: units stay in number order.")
        return list(range(n_units))
    default = "cell" if "cell" in names else names[0]
    name = st.selectbox("Rank by map", names, index=names.index(default), key="lv_order_map")
    values = tr.gate(name, layer, direction)  # (T, U)
    if order == "variance":
        score = values.var(axis=0)
    elif order == "saturation":
        low, high = analysis.saturation(tr, name, layer, direction)
        score = low + high
    else:
        signal, _ = _signal(tr, x)
        try:
            ranked = analysis.unit_search(tr, signal, name, layer, direction)
        except ValueError as err:
            show_error("Cannot rank by this signal", err)
            return list(range(values.shape[1]))
        return [u for u, _ in ranked]
    return [int(u) for u in np.argsort(-score, kind="stable")]


def view_ui(tr: LSTMTrace, x: np.ndarray) -> View:
    """Controls above the heatmaps; returns what to draw."""
    c1, c2, c3, c4 = st.columns([1, 1, 2, 2])
    layers, directions = list(range(tr.num_layers)), list(range(tr.num_directions))
    layer = c1.selectbox("Layer", layers, **state.bind("layer", layers))
    direction = c2.selectbox(
        "Direction",
        directions,
        format_func=lambda d: ("forward", "backward")[d],
        **state.bind("direction", directions),
    )
    with c3:
        order = _order(tr, layer, direction, x)
    n_units = len(order)
    with c4:
        top = n_units
        if n_units > 1:  # a one-unit core has nothing to choose (a slider needs min < max)
            state.keep_in_range(TOP_KEY, 1, n_units, clamp=False)
            top = st.slider(
                "Show units",
                1,
                n_units,
                min(n_units, DEFAULT_UNITS),
                key=TOP_KEY,
                help="Keep the first units of the order above.",
            )
        everyone = list(range(n_units))
        pinned = st.multiselect(
            "Pinned units (shown first)", everyone, **state.bind("pinned", everyone)
        )
    units = [int(u) for u in pinned] + [u for u in order[:top] if u not in pinned]
    window = _window_ui(tr.steps, len(units))
    here = state.place()
    if not here.present:
        return View(layer, direction, units, window, tr.steps)
    unit = here.unit if here.unit in units else units[0]
    return View(layer, direction, units, window, tr.steps, PRESENT_FONT, unit)


def _window_ui(steps: int, n_units: int) -> tuple[int, int]:
    """The steps drawn at full resolution. The window follows the step; moving the window
    brings the step along."""
    width = window_steps(n_units, steps)
    if width >= steps:
        return (0, steps)
    here, last = state.place(), steps - width
    centred = min(max(here.step - width // 2, 0), last)
    drawn = state.stashed(WINDOW_KEY)  # the start drawn last time
    state.keep_in_range(WINDOW_KEY, 0, last)
    start = state.widget_value(WINDOW_KEY, centred)
    if drawn is not None and start != drawn:  # the user moved the window: bring the step
        state.go_to(step=min(max(here.step, start), start + width - 1))
    elif not start <= here.step < start + width:  # the step moved away: follow it
        start = centred
    state.set_widget(WINDOW_KEY, start)
    state.stash(WINDOW_KEY, start)
    start = st.slider(
        f"Window start (showing {width} of {steps} steps)", 0, last, key=WINDOW_KEY, step=1
    )
    return (start, start + width)


def go_to_cell(view: View, cell: dict) -> None:
    """Move to the step and unit of a clicked heatmap cell (rows are view.units, columns the
    window's steps); a click outside them (a crafted one) is ignored."""
    start, stop = view.window
    row, col = cell["row"], cell["col"]
    if 0 <= row < len(view.units) and 0 <= col < stop - start:
        state.go_to(step=start + col, unit=view.units[row])


@cached(max_entries=8)  # budgeted: a figure holds its maps' data
def heatmap_spec(
    trace_id: str,
    _tr: LSTMTrace,
    layer: int,
    direction: int,
    units: tuple[int, ...],
    window: tuple[int, int],
    font: int | None = None,
    highlight: int | None = None,
    muted: tuple[int, ...] = (),
) -> dict:
    """The heatmap figure as a plain dict (cached per trace and view)."""
    maps = {n: _tr.gate(n, layer, direction) for n in map_names(_tr)}
    labels = _tr.labels or [str(t) for t in range(_tr.steps)]
    clamped = {n: _tr.clamped(n, layer, direction) for n in maps}
    clamped = {n: m for n, m in clamped.items() if m.any()}
    fig = figures.gate_heatmaps(
        maps, labels, list(units), window, clamped=clamped or None, font=font,
        highlight_unit=highlight, muted=muted,
    )  # fmt: skip
    return fig.to_plotly_json()


@cached(max_entries=8)  # budgeted: a figure holds its maps' data
def overview_spec(
    trace_id: str,
    _tr: LSTMTrace,
    layer: int,
    direction: int,
    units: tuple[int, ...],
    window: tuple[int, int],
    font: int | None = None,
) -> dict:
    name = "cell" if "cell" in _tr.names else "hidden"
    values = _tr.gate(name, layer, direction)[:, list(units)]
    return figures.overview(values, name, window, font=font).to_plotly_json()


def heatmaps_panel(tr: LSTMTrace, trace_id: str, view: View, muted: tuple[int, ...] = ()) -> None:
    """Draw the (optional) overview and the stacked heatmaps (previewed on a session's first
    page: see `first_paint`)."""
    args = (trace_id, tr, view.layer, view.direction, tuple(view.units), view.window)
    if view.has_overview:
        first_paint.chart(
            own_copy(overview_spec(*args, view.font)), OVERVIEW_KEY, theme=None, config=CHART
        )
    first_paint.chart(
        own_copy(heatmap_spec(*args, view.font, view.highlight, tuple(muted))),
        HEATMAP_KEY,
        theme=None,
        config=CHART,
    )
