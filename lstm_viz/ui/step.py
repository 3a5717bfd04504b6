"""Stepping: the step slider, previous / next, play / pause, and every panel that changes with
the step, inside one `st.fragment`.

A step change reruns only this fragment. The heatmaps outside it are not sent again; the marker
on them is a CSS band placed from the figure's fixed margins (`figures.heatmap_margin`), so a step
costs a few KB (the per-step panels) instead of the maps. Play sets the fragment's `run_every`.
"""

from __future__ import annotations

import streamlit as st

from lstm_viz.figures import heatmap_margin
from lstm_viz.ui import classroom, gates, state
from lstm_viz.ui.cell import cell_panel
from lstm_viz.ui.rooms import in_fragment_run

PLAYING = "lv_playing"
KEYS = [  # (name, key, steps moved): besides Prev / Next on ← →
    ("pagedown", "PageDown", 1), ("space", "Space", 1), ("pageup", "PageUp", -1),
    ("home", "Home", -10**9), ("end", "End", 10**9),
]  # fmt: skip
KEYS_CSS = "<style>.st-key-lv_keys {display: none}</style>"
SPEEDS = [1, 2, 4, 8]  # steps per second while playing


def marker_css(step: int, view: gates.View) -> str:
    """A band over the current step's column on the heatmaps (and the overview)."""
    start, stop = view.window
    margin = heatmap_margin(view.font)  # the maps' fixed margins (wider at projector sizes)
    inner = f"(100% - {margin['l'] + margin['r']}px)"
    rules = [f".st-key-{gates.HEATMAP_KEY}, .st-key-{gates.OVERVIEW_KEY} {{position: relative}}"]
    # the band sits on the maps' previews too (a session's first page: `first_paint`)
    maps, overview = (f".st-key-{k}::after, .st-key-{k}_box .lv-preview::after"
                      for k in (gates.HEATMAP_KEY, gates.OVERVIEW_KEY))  # fmt: skip
    band = (
        "content: ''; position: absolute; pointer-events: none; z-index: 2; "
        "background: rgba(255, 160, 0, 0.18); outline: 1.5px solid #111; "
        f"top: {margin['t']}px; bottom: {margin['b']}px;"
    )
    if start <= step < stop:
        w = stop - start
        rules.append(
            f"{maps} {{{band} "
            f"left: calc({margin['l']}px + {inner} * {(step - start) / w:.6f}); "
            f"width: max(2px, calc({inner} / {w}));}}"
        )
    if view.has_overview:
        rules.append(
            f"{overview} {{{band} "
            f"left: calc({margin['l']}px + {inner} * {step / view.steps:.6f}); width: 2px;}}"
        )
    return "<style>\n" + "\n".join(rules) + "\n</style>"


def _move(delta: int, steps: int) -> None:
    state.go_to(step=min(max(state.place().step + delta, 0), steps - 1))


def _play(on: bool) -> None:
    state.stash(PLAYING, on)


def _controls(steps: int) -> int:
    here = state.place()
    if state.stashed(PLAYING):  # one tick of play: advance before the slider is drawn
        if here.step >= steps - 1:
            _play(False)
            st.rerun()  # a full run drops the fragment's run_every
        state.go_to(step=here.step + 1)
    step = 0
    if steps > 1:
        step = st.slider("Step", 0, steps - 1, **state.bind("step"))
    # no tooltips: each one is another component to redraw at every step; the buttons show
    # their keys (← →) themselves
    c1, c2, c3 = st.columns(3)
    c1.button(
        "Prev", key="lv_prev", on_click=_move, args=(-1, steps), shortcut="Left", width="stretch"
    )
    c2.button(
        "Next", key="lv_next", on_click=_move, args=(1, steps), shortcut="Right", width="stretch"
    )
    _clicker_keys(steps)
    if state.stashed(PLAYING):
        c3.button("Pause", key="lv_pause", width="stretch", on_click=_play, args=(False,))
    else:
        c3.button(
            "Play", key="lv_play", width="stretch", disabled=steps < 2, on_click=_play, args=(True,)
        )
    return int(step)


def _clicker_keys(steps: int) -> None:
    """PageDown / Space forward, PageUp back, Home / End to the ends: a presenter's clicker
    sends PageDown and PageUp. Buttons kept out of sight (CSS): only their shortcuts are used."""
    st.html(KEYS_CSS)
    with st.container(key="lv_keys"):
        for key, shortcut, delta in KEYS:
            st.button(key, key=f"lv_key_{key}", on_click=_move, args=(delta, steps),
                      shortcut=shortcut)  # fmt: skip


def _body(src, tr, preds, view: gates.View, playing: bool) -> None:
    """`playing`: whether the fragment was drawn playing (its run_every); a change of play or
    pause needs a full run to set a new one."""
    if playing != bool(state.stashed(PLAYING)):
        st.rerun()
    following = classroom.following()
    if following and classroom.follow(timeout=0) in ("page", "ended"):
        st.rerun()  # the presenter changed more than the step: redraw the whole page
    step = _controls(tr.steps)
    start, stop = view.window
    if not start <= step < stop:  # the window follows the step (a full run redraws the maps)
        st.rerun()
    st.html(marker_css(step, view))
    cell_panel(src, tr, preds, view, step)
    state.link_ui()  # here, not above the view: a step moves only this fragment
    state.write_link()
    classroom.publish()
    if following and in_fragment_run():
        # the long poll comes last, after the page is drawn: the run that takes a move must
        # end at once, because the next run's start drops whatever of this fragment is not
        # sent yet (a wait at the top lost each move's step for a whole wait, 1-10 s); not
        # in a whole-page run, which would stay "running" for the wait
        moved = classroom.follow()
        if moved is not None:
            st.rerun(scope="fragment" if moved == "step" else "app")


def step_fragment(src, tr, preds, view: gates.View) -> None:
    """Draw the step controls and per-step panels; they rerun alone when the step changes.

    The unit and speed pickers sit outside the fragment: they change rarely, a change reruns
    the app (a new speed needs a new run_every anyway), and every widget left out of the
    fragment is one less to redraw at each step."""
    c1, c2 = st.columns([3, 2])
    c1.selectbox(
        "Unit in the diagram (heatmap order)", view.units, **state.bind("unit", view.units)
    )
    speed = c2.selectbox(
        "Play speed", SPEEDS, index=2, key="lv_speed", format_func=lambda s: f"{s} steps/s"
    )
    st.toggle("Exact values of every unit at this step", key="lv_exact")
    playing = bool(state.stashed(PLAYING))
    # a following page waits in the fragment for the presenter's next step (a long poll)
    every = 1.0 / speed if playing else classroom.POLL if classroom.following() else None
    st.fragment(_body, run_every=every)(src, tr, preds, view, playing)
