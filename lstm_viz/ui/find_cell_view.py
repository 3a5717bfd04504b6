"""The find-a-cell view: which units track a signal the user cares about?

Pick a per-step signal (inside quotes and bracket depth on the chars model, the position since
the cue on cue models, the input value on numeric models, the step index anywhere) and get every
cell and hidden unit ranked by |Pearson r| with it (`lstm_viz.unit_search`, as in Karpathy,
Johnson & Fei-Fei 2015), beside the band chance reaches for the same signal on the same input
(`lstm_viz.unit_null`), with a flag when the signal is just time passing or the input too short
to tell. Each ranked unit is one click from its row in the gates view: the button pins it there
and switches the view.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from lstm_viz import analysis, figures
from lstm_viz.tasks import task_for
from lstm_viz.ui import gates, state
from lstm_viz.ui.analysis_cache import cue_step, null_band, ranking
from lstm_viz.ui.common import plain, show_error
from lstm_viz.ui.memory_view import CHART, where_ui

PINS_PER_ROW = 4


def _task_signals(src) -> dict[str, np.ndarray]:
    """The signals the model's task defines over its tokens (the chars task: inside quotes,
    bracket depth); none for a task that defines none."""
    task = task_for(src.model)
    if task is None or task.signals is None or not src.model.is_token_model:
        return {}
    tokens = [src.model.config.vocab[int(i)] for i in np.asarray(src.x).reshape(-1)]
    return task.signals(tokens)


def signals(src, tr) -> tuple[dict[str, np.ndarray], list[str]]:
    """(name -> (T,) signal, notes on signals this input cannot offer)."""
    labels = tr.labels or [str(t) for t in range(tr.steps)]
    found, notes = {}, []
    found.update(_task_signals(src))
    if src.extra.get("cue_answer"):
        cue = cue_step(labels, src.extra)
        if cue is None:
            notes.append("no name or town in this input, so no position since the cue")
        else:  # 0 up to the cue, then 1, 2, ... steps since it
            found["position since the cue"] = np.maximum(np.arange(tr.steps) - cue, 0.0)
    x = np.asarray(src.x)
    if np.issubdtype(x.dtype, np.floating):
        values = x.reshape(tr.steps, -1)
        for k in range(values.shape[1]):
            name = "input value" + (f" (feature {k})" if values.shape[1] > 1 else "")
            found[name] = values[:, k].astype(np.float64)
    found["step index"] = np.arange(tr.steps, dtype=np.float64)
    for name in [n for n, v in found.items() if np.ptp(v) == 0]:  # a constant has no r
        del found[name]
        notes.append(f"{name} (it does not change on this input)")
    return found, notes


def _pin(name: str, unit: int, layer: int, direction: int) -> None:
    """Callback: show `unit` first in the gates view, in its diagram too, and go there."""
    state.go_to(view="gates", pinned=(unit,), unit=unit, layer=layer, direction=direction)


def find_cell_view(src, tr, preds, trace_id: str) -> None:
    """Draw the find-a-cell view for the chosen source and its cached trace."""
    found, notes = signals(src, tr)
    if not found:
        st.info("No signal varies on this input: " + "; ".join(notes) + ". Try a longer one.")
        return
    c1, c2, c3 = st.columns([2, 2, 1])
    state.keep_choice("lv_fc_signal", list(found))
    name = c1.selectbox("Signal", list(found), key="lv_fc_signal")
    with c3:
        layer, direction = where_ui(tr)
    states = [n for n in ("cell", "hidden") if n in gates.map_names(tr)]
    total = len(states) * tr.units(states[0])
    state.keep_in_range("lv_fc_top", 1, max(total, 2))
    top = c2.slider("Units to show", 1, max(total, 2), min(8, total), key="lv_fc_top")
    if notes:
        st.caption("Not offered here: " + "; ".join(notes) + ".")
    signal = found[name]
    try:
        ranked = ranking(trace_id, tr, signal, tuple(states), layer, direction)
    except ValueError as err:
        show_error(f"Cannot rank units by {name!r} on this input", err)
        return
    chance = null_band(trace_id, tr, signal, tuple(states), layer, direction)
    for flag in flags(name, chance, tr.steps):
        st.warning(flag)
    shown = ranked[:top]
    labels = tr.labels or [str(t) for t in range(tr.steps)]
    rows = [
        (f"#{k + 1} {n} {u} · r = {r:+.2f}", tr.gate(n, layer, direction)[:, u])
        for k, (n, u, r) in enumerate(shown)
    ]
    width = gates.window_steps(len(rows) + 1, tr.steps)
    fig = figures.ranked_units_figure(
        signal, name, rows, labels, (0, width), [r for _, _, r in shown], chance.band,
        chance.quantile,
    )  # fmt: skip
    st.plotly_chart(fig, key="lv_fc_rows", theme=None, config=CHART)
    if width < tr.steps:
        st.caption(f"Rows show the first {width} of {tr.steps} steps; r uses every step.")
    st.markdown(against_chance(name, chance, [r for _, _, r in ranked]))
    st.markdown("**Show a unit in the gates view** (pinned first, in the cell diagram too):")
    for k0 in range(0, len(shown), PINS_PER_ROW):
        cols = st.columns(PINS_PER_ROW)
        row = list(enumerate(shown[k0 : k0 + PINS_PER_ROW], k0))
        for col, (k, (n, u, r)) in zip(cols[: len(row)], row, strict=True):
            col.button(
                f"#{k + 1} {n} {u} (r = {r:+.2f})",
                key=f"lv_fc_pin_{k}",
                on_click=_pin,
                args=(n, u, layer, direction),
                width="stretch",
            )
    best_n, best_u, best_r = ranked[0]
    st.caption(
        f"Pearson r between each unit's value and {plain(name)} over all {tr.steps} steps, "
        f"largest |r| first; the best is {best_n} unit {best_u} (r = {best_r:+.3f}). Rows are "
        "scaled to their own largest value so every unit's shape shows; hover for the value."
    )
    with st.expander("Every unit, ranked"):
        table = {
            "rank": list(range(1, len(ranked) + 1)),
            "state": [n for n, _, _ in ranked],
            "unit": [u for _, u, _ in ranked],
            "r": [r for _, _, r in ranked],
        }
        st.dataframe(table, hide_index=True, key="lv_fc_table", height=300)


def flags(name: str, nb: analysis.NullBand, steps: int) -> list[str]:
    """Warnings for a signal that is just time passing on this input, and for an input too
    short to tell a unit from chance (the rules are `analysis.unit_null`'s)."""
    out = []
    if nb.drifts:
        what = "the step index is time passing itself" if name == "step index" else (
            f"{plain(name)} moves with the step index on this input (r = {nb.time_r:+.2f})"
        )  # fmt: skip
        out.append(
            f"Time passing: {what}, so any unit that rises or falls steadily over "
            f"these {steps} steps scores a high |r| with it, whatever the unit holds. Read its "
            "ranking as a ranking of drifting units; an input on which the signal rises and "
            "falls more than once can tell them apart."
        )
    if nb.too_short:
        out.append(
            f"Too short to tell: of the {steps - 1} circular shifts of {plain(name)} on these "
            f"{steps} steps, {nb.usable} leave it unlike itself (|r| ≤ {analysis.SELF_R} with "
            f"it), and at least {analysis.MIN_SHIFTS} are needed to say how large |r| gets by "
            "chance. No unit here can be told from chance; try a longer input."
        )
    return out


def against_chance(name: str, nb: analysis.NullBand, scores: list[float]) -> str:
    """The chance band in words: how large the best |r| gets with the signal shifted, and how
    many units beat it."""
    if nb.too_short:
        return (
            f"**Against chance**: too short to tell ({nb.usable} usable shifts of "
            f"{analysis.MIN_SHIFTS} needed), so the figure draws no band."
        )
    beat = sum(abs(r) > nb.band for r in scores)
    verdict = (
        f"{beat} of the {len(scores)} units beat it (dark bars)"
        if beat
        else f"no unit beats it: on this input nothing tracks {plain(name)} better than chance"
    )
    return (
        f"**Against chance**: shifted circularly by {len(nb.shifts)} amounts that leave it "
        f"unlike itself, {plain(name)} reaches a best |r| over these {len(scores)} units of up to "
        f"{nb.band:.2f} by chance (the {nb.quantile:.0%} point over the shifts; median "
        f"{np.median(nb.maxima):.2f}); {verdict}."
    )
