"""The classroom: presenter mode, a room the presenter opens, and students' pages that follow it.

Presenter mode is a field of the place (`present`, `?present=1`): large type, the sidebar folded
away, one line of navigation. A room (see `rooms.py`) carries the presenter's place to every page
opened with its link (`?room=CODE`). A following page waits for the presenter's next move and
takes it with `state.go_to`; "Explore on my own" stops following, "Catch up" takes the presenter's
page again. Nothing a student does reaches the presenter: only the session that opened a room
publishes to it.
"""

from __future__ import annotations

import streamlit as st

from lstm_viz.ui import state
from lstm_viz.ui.place import from_link, link_params
from lstm_viz.ui.rooms import rooms, session_id

HOSTING = "hosting"  # stash: the code of the room this session presents
FOLLOW = "follow"  # stash: {"code", "seen" (version taken), "on" (following or exploring)}
WAIT = 1.0  # seconds a following page waits for the presenter's next move in one run
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
    room = rooms().wait(joined["code"], joined["seen"], timeout)
    if room is None:
        state.stash(FOLLOW, {**joined, "on": False})
        state.note(f"Room {joined['code']} has ended (its presenter left); you are on your own.")
        return "ended"
    if room.version == joined["seen"]:
        return None
    there, _ = from_link(room.params)
    here = state.place()
    changes = {f: getattr(there, f) for f in TRAVELS if getattr(there, f) != getattr(here, f)}
    state.stash(FOLLOW, {**joined, "seen": room.version})
    if not changes:
        return None
    state.go_to(**changes)
    return "step" if set(changes) <= {"step", "unit"} else "page"


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
              **state.bind("present"))  # fmt: skip
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


@st.fragment(run_every=0.2)
def follow_fragment() -> None:
    """For views without a step fragment: wait for the presenter's move, then rerun the page."""
    if follow() is not None:
        st.rerun()
