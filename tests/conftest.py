"""What the app tests share: one AppTest fixture, `app(view=..., state=..., **query)`, and small
readers of what the app sent (charts, SVG panels, errors, the place).

`app` opens the app the way a link does (`?view=memory&model=...`), so a test of any view is one
run; `state` presets session-state keys before the first run, as a crafted client could.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("streamlit.testing.v1")
from streamlit.testing.v1 import AppTest  # noqa: E402

APP = str(Path(__file__).resolve().parents[1] / "app.py")
# one page per view, as a link names it (AppTest and the real browser both open these)
LINK_PAGES = {
    "gates": dict(model="cue_lstm", input="example", ex="martha-she-seed", step="6", unit="3"),
    "memory": dict(model="cue_lstm", input="example", ex="martha-she-seed", step="9", unit="28"),
    "intervene": dict(model="cue_lstm", step="4", clamp="forget:2-14:0:u1,5"),
    "find": dict(model="chars_lstm", input="example", ex="quotes", pin="34"),
    "corpus": dict(model="chars_lstm", input="example", ex="quotes", step="14"),
    "compare": dict(model="cue_gru", step="3"),
    "forecast": dict(model="forecast_co2_lstm", input="example", step="40"),
    "lesson": dict(stop="3"),
}


def run(at: AppTest) -> AppTest:
    """Run the script once; no exception may reach the page."""
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def open_app(view: str | None = None, state: dict | None = None, **query) -> AppTest:
    """A fresh session on the page a link names (view: a link id or a view's title)."""
    at = AppTest.from_file(APP, default_timeout=120)
    if view is not None:
        query["view"] = view
    at.query_params.update(query)
    for key, value in (state or {}).items():
        at.session_state[key] = value
    return run(at)


@pytest.fixture
def app():
    """The AppTest factory: `at = app(view="memory", model="cue_gru")`."""
    return open_app


def place(at: AppTest):
    """The app's Place: where the user is (model, input, view, step, unit, ...)."""
    return at.session_state["lv_place"]


def chart(at: AppTest, key: str) -> dict:
    """The Plotly spec the app sent for the chart with this key."""
    hits = [c for c in at.get("plotly_chart") if c.proto.id.endswith("-" + key)]
    assert hits, f"no chart {key}"
    return json.loads(hits[0].proto.spec)


def charts(at: AppTest) -> dict[str, dict]:
    """Plotly specs the app sent, by widget key."""
    return {c.proto.id.split("-")[-1]: json.loads(c.proto.spec) for c in at.get("plotly_chart")}


def array(value) -> np.ndarray:
    """A Plotly data array: a list or a base64 typed array {dtype, bdata, shape}."""
    if isinstance(value, dict):
        data = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        shape = [int(s) for s in str(value.get("shape", len(data))).split(",")]
        return data.reshape(shape)
    return np.asarray(value, dtype=np.float64)


def svgs(at: AppTest) -> list[str]:
    """The SVG texts the app sent as images (data URLs): per-step panels."""
    urls = [i.url for img in at.get("image") for i in img.proto.imgs]
    head = "data:image/svg+xml;base64,"
    return [base64.b64decode(u[len(head) :]).decode() for u in urls if u.startswith(head)]


def diagram_svg(at: AppTest) -> str:
    """The cell diagram's SVG text."""
    found = [s for s in svgs(at) if 'aria-label="cell diagram"' in s]
    assert len(found) == 1
    return found[0]


def unescape(markdown: str) -> str:
    """A text as the user reads it (plain() escapes Markdown characters)."""
    return re.sub(r"\\(.)", r"\1", markdown)


def errors(at: AppTest) -> list[str]:
    """Error texts, with plain()'s Markdown escapes removed."""
    return [unescape(e.value) for e in at.error]


def markdown(at: AppTest) -> str:
    """Every Markdown text of the page, unescaped, one per line."""
    return "\n".join(unescape(m.value) for m in at.markdown)


def heatmap_steps(at: AppTest) -> int:
    """Steps on the heatmaps' x axis (asserts the heatmaps were drawn)."""
    return len(chart(at, "lv_heatmaps")["data"][0]["x"])
