"""Students following a room, as websocket clients (bench/st_client.py's protocol), for
bench/classroom.py: dozens of real Streamlit sessions in one thread of one process.

A follower opens `?room=CODE` and then behaves as the browser's frontend does with a fragment's
`run_every`: when the server sends `auto_rerun` (interval, fragment id), the follower asks for
that fragment's rerun every `interval` seconds, whether a run is going on or not (Streamlit's
frontend uses `setInterval`; the server coalesces requests that arrive during a run). Every
element it receives is read for what a student's page shows: the step slider's value
(`lv_step`), a lesson stop's heading ("## k / N"), or a view's main chart (by key); each
sighting is stamped with `time.monotonic()`, to compare with the presenter's key press.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time

from st_client import PAINTED, Session, element_key
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

STOP = re.compile(r"^## (\d+) / \d+")
CHARTS = ("lv_heatmaps", "lv_mem_retention", "lv_lesson_lines", "lv_lesson_heatmap")


class Follower:
    """One student's page: the sightings (time, kind, value) of what it showed."""

    def __init__(self, url: str, code: str):
        self.session = Session(url, {"room": code})
        self.seen: list[tuple[float, str, object]] = []
        self.every: tuple[float, str] | None = None  # (interval, fragment id) of run_every
        self.runs = 0
        self.slider: dict[str, float] = {}  # widget id -> the value the page shows
        self.errors: list[str] = []
        self.painted = False  # the first page's previews arrived: ask for the charts

    def first(self, kind: str, value, after: float) -> float | None:
        """When this page first showed `value` of `kind` at or after time `after`."""
        return next((t for t, k, v in self.seen if k == kind and v == value and t >= after), None)

    async def run(self) -> None:
        s = self.session
        await s.open()
        await self._send(None)
        timer = asyncio.ensure_future(self._timer())
        try:
            await self._receive()
        finally:
            timer.cancel()

    async def _timer(self) -> None:
        while True:
            every = self.every
            await asyncio.sleep(every[0] if every else 0.05)
            if every is not None and every == self.every:
                await self._send(every[1])

    async def _receive(self) -> None:
        s = self.session
        while True:
            data = await s.ws.recv()
            now = time.monotonic()
            fwd = ForwardMsg()
            fwd.ParseFromString(data)
            kind = fwd.WhichOneof("type")
            if kind == "auto_rerun":
                self.every = (fwd.auto_rerun.interval, fwd.auto_rerun.fragment_id)
            elif kind == "stop_auto_rerun":  # per fragment: a new one's may come first
                if self.every and self.every[1] in fwd.stop_auto_rerun.fragment_ids:
                    self.every = None
            elif kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                self._read(now, fwd.delta.new_element)
            elif kind == "script_finished":
                # a fragment run that ends with a tick queued reports "early for rerun": a run
                self.runs += 1
                if self.painted:  # as the browser's first-paint component: ask for the charts
                    self.painted = False
                    await self._send(None)

    def _read(self, now: float, el) -> None:
        key = element_key(el)
        if key == "lv_step":
            # as the frontend: a value the server sets, else the one the page already shows
            # (same widget id), else the default
            wid, old = el.slider.id, self.slider.get(el.slider.id)
            shown = el.slider.value[0] if el.slider.set_value else old
            self.slider[wid] = shown if shown is not None else el.slider.default[0]
            self.seen.append((now, "step", int(self.slider[wid])))
        elif key == PAINTED:
            self.painted = True
        elif key in CHARTS:
            self.seen.append((now, "view", key))
        elif el.WhichOneof("type") == "markdown" and (m := STOP.match(el.markdown.body)):
            self.seen.append((now, "stop", int(m.group(1))))
        elif el.WhichOneof("type") == "exception":
            self.errors.append(el.exception.message)

    async def _send(self, fragment: str | None) -> None:
        msg = BackMsg()
        msg.rerun_script.query_string = self.session.query
        for wid, value in self.slider.items():  # the browser sends back what it shows
            msg.rerun_script.widget_states.widgets.add(id=wid).double_array_value.data.append(value)
        if fragment:
            msg.rerun_script.fragment_id = fragment
            msg.rerun_script.is_auto_rerun = True
        await self.session.ws.send(msg.SerializeToString())


class Class:
    """`n` followers of room `code`, run by an asyncio loop in a background thread."""

    def __init__(self, url: str, code: str, n: int):
        self.followers = [Follower(url, code) for _ in range(n)]
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.tasks = []
        self.missed: list[str] = []  # moves some followers never showed (see wait_all)

    def __enter__(self) -> Class:
        self.thread.start()

        async def start():
            return [asyncio.ensure_future(f.run()) for f in self.followers]

        self.tasks = asyncio.run_coroutine_threadsafe(start(), self.loop).result()
        return self

    def __exit__(self, *exc) -> None:
        async def stop():
            for t in self.tasks:
                t.cancel()
            await asyncio.gather(*self.tasks, return_exceptions=True)
            for f in self.followers:
                await f.session.close()

        try:
            asyncio.run_coroutine_threadsafe(stop(), self.loop).result(30)
        except TimeoutError:  # a server too busy to close politely: the process ends anyway
            pass
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    def runs(self) -> int:
        """Runs finished so far, over all followers."""
        return sum(f.runs for f in self.followers)

    def failed(self) -> list[str]:
        """Followers whose task died (an error, not a cancel), and exceptions pages showed."""
        out = [f"follower {i}: {t.exception()!r}" for i, t in enumerate(self.tasks)
               if t.done() and not t.cancelled() and t.exception()]  # fmt: skip
        return out + [e for f in self.followers for e in f.errors]

    def wait_all(self, kind: str, value, after: float, timeout: float = 30.0) -> list[float]:
        """Seconds from `after` to each follower showing `value` (waits up to `timeout`); a
        follower that never shows it is left out of the times and counted in `missed`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            seen = [f.first(kind, value, after) for f in self.followers]
            if all(t is not None for t in seen):
                break
            time.sleep(0.02)
        late = sum(t is None for t in seen)
        if late:
            self.missed.append(f"{late} of {len(seen)} never showed {kind} {value!r} in {timeout}s")
        return [t - after for t in seen if t is not None]
