"""The classroom: presenter mode, a room the presenter opens, and students' pages that follow it.

Presenter mode is a field of the place (`present`, `?present=1`): large type, the sidebar folded
away, one line of navigation. A room (see `rooms.py`) carries the presenter's place to every page
opened with its link (`?room=CODE`). A following page waits for the presenter's next move and
takes it with `state.go_to`; "Explore on my own" stops following, "Catch up" takes the presenter's
page again. Nothing a student does reaches the presenter: only the session that opened a room
publishes to it.
"""

from __future__ import annotations

import time

import streamlit as st

from lstm_viz.ui import state
from lstm_viz.ui.place import from_link, link_params, slug
from lstm_viz.ui.rooms import clicked, in_fragment_run, rooms, session_id

HOSTING = "hosting"  # stash: the code of the room this session presents
FOLLOW = "follow"  # stash: {"code", "seen" (version taken), "on" (following or exploring)}
# A following page waits up to WAIT s for the presenter's next move in one run, then redraws
# its fragment unchanged and waits again. At 1 s, 30 idle students cost the server 30 fragment
# runs a second, and under that load a step took 1-8 s to reach them (bench/classroom.py); a
# student's own click still ends the wait within rooms.CHECK s (see rooms.clicked).
WAIT = 10.0
# run_every of a following page's fragment: after a move ends a wait, the next wait starts at
# the browser's next tick. The browser ticks even during a run (the server keeps one request
# queued), so 0.05 s only made each student send 20 requests a second (600/s for 30 students).
POLL = 0.25
# Students take a move SETTLE s after the presenter made it. Woken at once, 30 students' runs
# held the GIL while the presenter's own run was still sending its page: the presenter's step
# took 370 ms instead of 90 ms (bench/classroom.py). The presenter's page comes first.
SETTLE = 0.1
TRAVELS = (  # what a student's page takes from the presenter's place
    "model", "input", "example", "text", "length", "seed", "noise", "columns",
    "view", "step", "layer", "direction", "unit", "pinned", "stop", "clamps",
)  # fmt: skip


def publish() -> None:
    """The presenter's place to their room (a no-op for everyone else)."""
    code = state.stashed(HOSTING)
    if code:
        params = link_params(state.place())
        params.pop("room", None), params.pop("present", None)
        rooms().publish(code, session_id(), params)


def following() -> bool:
    """Whether this page follows a room now (not exploring on its own). While it does, the
    page's own controls do not move the place: a stale slider value sent by the browser must
    not undo the presenter's last move."""
    joined = _joined()
    on = bool(joined and joined["on"])
    state.lock(TRAVELS if on else ())
    return on


def _joined() -> dict | None:
    code = state.place().room
    if not code:
        return None
    joined = state.stashed(FOLLOW)
    if not joined or joined["code"] != code:
        joined = {"code": code, "seen": -1, "on": True}
        state.stash(FOLLOW, joined)
    return joined


def follow(timeout: float = WAIT) -> str | None:
    """Take the presenter's newest place, waiting up to `timeout` s for a move. Returns "step"
    when only the step (or unit) moved, "page" when more moved, "ended" when the room closed,
    None when nothing moved."""
    joined = _joined()
    if not joined or not joined["on"]:
        return None
    room = rooms().wait(joined["code"], joined["seen"], timeout, stop=clicked)
    if room is None:
        state.stash(FOLLOW, {**joined, "on": False})
        state.note(f"Room {joined['code']} has ended (its presenter left); you are on your own.")
        return "ended"
    if room.version == joined["seen"]:
        return None
    time.sleep(max(0.0, room.moved + SETTLE - time.monotonic()))
    # the version first: a move published between the two reads is taken again, never lost
    version, params = room.version, room.params
    there, _ = from_link(params)
    here = state.place()
    changes = {f: getattr(there, f) for f in TRAVELS if _differs(f, there, here)}
    state.stash(FOLLOW, {**joined, "seen": version})
    if not changes:
        return None
    state.go_to(**changes)
    return "step" if set(changes) <= {"step", "unit"} else "page"


def _differs(name: str, there, here) -> bool:
    """Whether the presenter's place differs from this page's in field `name`. The room holds
    link parameters, where an example is its slug ("martha-she") while a page holds its full
    name: compared as is, every move of the presenter looked like a new example and redrew each
    student's whole page (heatmaps and all) instead of the step fragment."""
    a, b = getattr(there, name), getattr(here, name)
    return slug(a) != slug(b) if name == "example" else a != b


def _explore(on: bool) -> None:
    joined = _joined()
    if joined:
        state.stash(FOLLOW, {**joined, "on": not on, "seen": -1 if not on else joined["seen"]})


def _open_room() -> None:
    try:
        state.stash(HOSTING, rooms().open(session_id()).code)
    except ValueError as err:
        state.note(str(err))


def _close_room() -> None:
    code = state.stashed(HOSTING)
    if code:
        rooms().close(code, session_id())
    state.unstash(HOSTING)


def banner() -> None:
    """A student's line at the top: which room, and explore / catch up."""
    joined = _joined()
    if not joined:
        return
    c1, c2 = st.columns([4, 1])
    if joined["on"]:
        c1.info(f"Following room **{joined['code']}**: this page moves with the presenter's.")
        c2.button("Explore on my own", key="lv_room_explore", on_click=_explore, args=(True,))
    else:
        c1.info(f"Room **{joined['code']}**: you are exploring on your own.")
        c2.button("Catch up", key="lv_room_catch_up", on_click=_explore, args=(False,),
                  type="primary")  # fmt: skip


def presenter_ui() -> None:
    """The presenter's controls: presenter mode, and a room for the class to follow."""
    st.toggle("Presenter mode", help="Large type for a projector; ← → PageUp PageDown step.",
              **state.bind("present", resend=True))  # fmt: skip
    code = state.stashed(HOSTING)
    if code and rooms().get(code) is None:  # e.g. closed after the idle time
        state.unstash(HOSTING)
        code = None
    if not code:
        st.button("Open a room for the class", key="lv_room_open", on_click=_open_room)
        return
    st.markdown(f"Room **{code}**: students open")
    st.code(state.page_url({"room": code}), language=None, wrap_lines=True)
    st.button("Close the room", key="lv_room_close", on_click=_close_room)


@st.fragment(run_every=POLL)
def follow_fragment() -> None:
    """For views without a step fragment: wait for the presenter's move, then rerun the page.
    The page's own run waits 1 s at most (it shows "running" meanwhile), its ticks WAIT s.
    (Not 0 s: with no wait there, some students missed a lesson stop in bench/classroom.py.)"""
    if follow(WAIT if in_fragment_run() else 1.0) is not None:
        st.rerun()
