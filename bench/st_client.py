"""A minimal Streamlit client: what the browser's frontend sends over the websocket, without a
browser, so one process can hold dozens of real sessions against `streamlit run app.py`.

It speaks Streamlit's own protobufs (BackMsg out, ForwardMsg in) on /_stcore/stream: a rerun
carries the query string and every widget value set so far; a run ends with `script_finished`.
Widgets are found by their key (a widget's id ends with "-<key>"); files are uploaded the way
the frontend does (file_urls_request, then an HTTP PUT with the XSRF cookie and header).
Loopback only: it is for load tests of a local server.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlparse

import requests
import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

ERROR = 1  # Alert.Format.ERROR
RUN_TIMEOUT = 180.0  # seconds one script run may take under load before the session fails
PAINTED = "lv_painted"  # the key of the first page's component (ui/first_paint.py)


@dataclass
class Run:
    """What one script run sent: elements by delta path, their fragment, and raw bytes."""

    elements: dict = field(default_factory=dict)  # delta path -> Element
    fragments: dict = field(default_factory=dict)  # widget key -> fragment id
    status: int = -1
    seconds: float = 0.0


class Session:
    """One browser tab's worth of Streamlit session, driven from asyncio."""

    def __init__(self, url: str, query: dict[str, str] | None = None):
        host = urlparse(url).hostname
        assert host in ("127.0.0.1", "localhost"), "loopback servers only"
        self.url = url
        self.query = urlencode(query or {})
        self.widgets: dict[str, WidgetState] = {}  # widget id -> the value we last set
        self.elements: dict = {}  # delta path -> Element, as the page would show it now
        self.fragments: dict[str, str] = {}  # widget key -> fragment id it is drawn in
        self.received = 0  # bytes the server sent this session
        self.raw: list[bytes] = []  # every message, to search for other sessions' text
        self.session_id = ""
        self.http = requests.Session()
        self.ws = None

    async def open(self) -> None:
        # the XSRF cookie comes with any page; uploads send it back as cookie and header
        await asyncio.to_thread(self.http.get, self.url + "/_stcore/health", timeout=30)
        ws_url = "ws" + self.url.removeprefix("http") + "/_stcore/stream"
        self.ws = await websockets.connect(ws_url, subprotocols=["streamlit"], max_size=None)

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        self.http.close()

    # --- runs ---------------------------------------------------------------------------------
    async def rerun(self, fragment_key: str | None = None) -> Run:
        """Send the current widget values and wait for the run to finish (a fragment's alone
        when `fragment_key` names a widget inside one)."""
        msg = BackMsg()
        state = msg.rerun_script
        state.query_string = self.query
        state.widget_states.widgets.extend(self.widgets.values())
        if fragment_key:
            state.fragment_id = self.fragments[fragment_key]
        for wid, w in list(self.widgets.items()):  # a trigger fires once
            if w.WhichOneof("value") == "trigger_value":
                del self.widgets[wid]
        loop = asyncio.get_running_loop()
        start = loop.time()
        await self.ws.send(msg.SerializeToString())
        run = await asyncio.wait_for(self._collect(), RUN_TIMEOUT)
        run.seconds = loop.time() - start
        if not fragment_key:
            self.elements = {}
        self.elements.update(run.elements)
        self.fragments.update(run.fragments)
        if not fragment_key and PAINTED in {element_key(e) for e in run.elements.values()}:
            # a browser paints the first page's map previews, then its first-paint component
            # asks for the charts (lstm_viz/ui/first_paint.py): one more whole run
            swap = await self.rerun()
            swap.seconds += run.seconds
            return swap
        return run

    async def _collect(self) -> Run:
        run = Run()
        while True:
            data = await self.ws.recv()
            self.received += len(data)
            self.raw.append(data)
            fwd = ForwardMsg()
            fwd.ParseFromString(data)
            kind = fwd.WhichOneof("type")
            if kind == "new_session":
                self.session_id = fwd.new_session.initialize.session_id
            elif kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                el = fwd.delta.new_element
                path = tuple(fwd.metadata.delta_path)
                run.elements[path] = el
                key = element_key(el)
                if key and fwd.delta.fragment_id:
                    run.fragments[key] = fwd.delta.fragment_id
            elif kind == "script_finished":
                run.status = fwd.script_finished
                if run.status != ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    return run

    # --- widgets ------------------------------------------------------------------------------
    def widget_id(self, key: str) -> str:
        for el in self.elements.values():
            if element_key(el) == key:
                return getattr(el, el.WhichOneof("type")).id
        raise KeyError(f"no widget {key!r} on the page")

    def has(self, key: str) -> bool:
        return any(element_key(el) == key for el in self.elements.values())

    def set(self, key: str, **value) -> None:
        """Set a widget's value, e.g. set("lv_text", string_value="...")."""
        w = WidgetState(id=self.widget_id(key))
        for name, v in value.items():
            if name in ("double_array_value", "string_array_value"):
                getattr(w, name).data.extend(v)
            else:
                setattr(w, name, v)
        self.widgets[w.id] = w

    def click(self, key: str) -> None:
        self.set(key, trigger_value=True)

    async def upload(self, key: str, name: str, data: bytes) -> None:
        """Upload one file into the file_uploader `key` (the next rerun sees it)."""
        wid = self.widget_id(key)
        msg = BackMsg()
        msg.file_urls_request.request_id = uuid.uuid4().hex
        msg.file_urls_request.file_names.append(name)
        msg.file_urls_request.session_id = self.session_id
        await self.ws.send(msg.SerializeToString())
        while True:  # the answer arrives on the same socket
            raw = await asyncio.wait_for(self.ws.recv(), RUN_TIMEOUT)
            fwd = ForwardMsg()
            fwd.ParseFromString(raw)
            if fwd.WhichOneof("type") == "file_urls_response":
                urls = fwd.file_urls_response.file_urls[0]
                break
        token = self.http.cookies.get("_streamlit_xsrf", "")
        put = self.url + urls.upload_url if urls.upload_url.startswith("/") else urls.upload_url
        response = await asyncio.to_thread(
            self.http.put,
            put,
            files={"file": (name, data, "application/octet-stream")},
            headers={"X-Xsrftoken": token},
            timeout=RUN_TIMEOUT,
        )
        response.raise_for_status()
        w = WidgetState(id=wid)
        info = w.file_uploader_state_value.uploaded_file_info.add()
        info.name, info.size, info.file_id = name, len(data), urls.file_id
        info.file_urls.CopyFrom(urls)
        self.widgets[wid] = w

    # --- what the page shows ------------------------------------------------------------------
    def errors(self) -> list[str]:
        out = []
        for el in self.elements.values():
            kind = el.WhichOneof("type")
            if kind == "exception":
                out.append(f"exception: {el.exception.type}: {el.exception.message}")
            elif kind == "alert" and el.alert.format == ERROR:
                out.append(el.alert.body)
        return out

    def markdown(self) -> list[str]:
        return [el.markdown.body for el in self.elements.values() if el.HasField("markdown")]

    def chart(self, key: str) -> dict:
        for el in self.elements.values():
            if el.WhichOneof("type") == "plotly_chart" and element_key(el) == key:
                return json.loads(el.plotly_chart.spec)
        raise KeyError(f"no chart {key!r}")

    def value(self, key: str):
        el = next(e for e in self.elements.values() if element_key(e) == key)
        proto = getattr(el, el.WhichOneof("type"))
        return list(proto.value) if hasattr(proto.value, "__len__") else proto.value

    def saw(self, text: str) -> bool:
        """Whether any message of this session contained `text` (UTF-8 bytes)."""
        needle = text.encode()
        return any(needle in raw for raw in self.raw)


def element_key(el) -> str | None:
    """The user key of a keyed element (its id is '$$ID-<hash>-<key>')."""
    kind = el.WhichOneof("type")
    wid = getattr(getattr(el, kind), "id", "") if kind else ""
    if not isinstance(wid, str) or "-" not in wid:
        return None
    return wid.split("-", 2)[-1] if wid.startswith("$$ID-") else None
