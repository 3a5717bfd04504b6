"""Rooms: students' pages follow a presenter's.

A presenter opens a room (a four-letter code); every page opened with `?room=CODE` shows the
presenter's model, input, view, step and lesson stop, and keeps following as the presenter moves.
One server process, no extra service: the rooms live in one `st.cache_resource` object shared by
every session, guarded by a lock. A presenter's run publishes its place (the same link parameters
the address bar shows); a student's page waits on a condition variable for a newer version (a long
poll: the thread sleeps, costing no CPU, and wakes the moment the presenter moves).

Only the session that opened a room can publish to it, so nothing a student does reaches the
presenter. A room ends when its presenter's session is gone or after `ROOM_IDLE` seconds without
a move. (Several server replicas would need sticky sessions and a shared store such as Redis
pub/sub in place of this object: see the README.)
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field

import streamlit as st

ROOM_IDLE = 3 * 3600  # seconds without a presenter's move before a room closes
MAX_ROOMS = 200  # rooms open at once on one server
CHECK = 0.25  # seconds between checks, in a long wait, for the waiting page's own clicks
LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I or O: codes are read aloud and typed by a class


@dataclass
class Room:
    code: str
    host: str  # the presenter's session id
    params: dict = field(default_factory=dict)  # the presenter's place, as link parameters
    version: int = 0
    touched: float = field(default_factory=time.monotonic)
    moved: float = 0.0  # time.monotonic() of the presenter's last move


class Rooms:
    """Every room of this server process (thread-safe)."""

    def __init__(self) -> None:
        self._rooms: dict[str, Room] = {}
        self._changed = threading.Condition()

    def open(self, host: str) -> Room:
        with self._changed:
            self._sweep()
            mine = next((r for r in self._rooms.values() if r.host == host), None)
            if mine is not None:
                return mine
            if len(self._rooms) >= MAX_ROOMS:
                raise ValueError(f"this server has {MAX_ROOMS} rooms open; try again later")
            code = "".join(secrets.choice(LETTERS) for _ in range(4))
            while code in self._rooms:
                code = "".join(secrets.choice(LETTERS) for _ in range(4))
            room = self._rooms[code] = Room(code, host)
            return room

    def publish(self, code: str, host: str, params: dict) -> None:
        """The presenter's place, if `host` opened room `code` (anyone else is ignored)."""
        with self._changed:
            room = self._rooms.get(code)
            if room is None or room.host != host:
                return
            room.touched = time.monotonic()
            if params != room.params:
                room.params, room.version = dict(params), room.version + 1
                room.moved = room.touched
                self._changed.notify_all()

    def close(self, code: str, host: str) -> None:
        with self._changed:
            room = self._rooms.get(code)
            if room is not None and room.host == host:
                del self._rooms[code]
                self._changed.notify_all()

    def get(self, code: str) -> Room | None:
        with self._changed:
            self._sweep()
            return self._rooms.get(code)

    def wait(self, code: str, seen: int, timeout: float, stop=lambda: False) -> Room | None:
        """The room once its version passes `seen` (or after `timeout` s, or as soon as `stop()`
        says so, checked every `CHECK` s); None if it ended."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                room = self._rooms.get(code)
                if room is None or room.version != seen or stop():
                    return room
                left = deadline - time.monotonic()
                if left <= 0:
                    return room
                self._changed.wait(min(left, CHECK))

    def _sweep(self) -> None:
        now = time.monotonic()
        for code, room in list(self._rooms.items()):
            if now - room.touched > ROOM_IDLE or not _alive(room.host):
                del self._rooms[code]


def _alive(session_id: str) -> bool:
    """Whether a session is still connected (always True outside a real server, e.g. AppTest)."""
    try:
        from streamlit.runtime import Runtime

        return Runtime.instance().is_active_session(session_id)
    except Exception:  # no runtime (AppTest, a notebook): nothing to check against
        return True


@st.cache_resource(show_spinner=False)
def rooms() -> Rooms:
    """The server's rooms: one object shared by every session of this process."""
    return Rooms()


def clicked() -> bool:
    """Whether this session has a request waiting that will stop the current run: a click
    outside the following fragment (e.g. "Explore on my own"). A fragment blocked in a long
    wait does not see it until it writes to the page again, so the wait asks."""
    try:  # Streamlit's own queue of this session's requests (not public API: any doubt, no)
        from streamlit.runtime.scriptrunner import get_script_run_ctx
        from streamlit.runtime.scriptrunner_utils.script_requests import ScriptRequestType

        requests = get_script_run_ctx().script_requests
        data = requests._rerun_data
        pending = requests._state != ScriptRequestType.CONTINUE
        # a rerun of fragments alone (the browser's run_every ticks) waits for this run's end
        return pending and not (data.fragment_id_queue and not data.is_fragment_scoped_rerun)
    except Exception:
        return False


def in_fragment_run() -> bool:
    """Whether this run is a fragment's own (not the whole page's)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return bool(ctx is not None and ctx.fragment_ids_this_run)


def session_id() -> str:
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else "no-session"
