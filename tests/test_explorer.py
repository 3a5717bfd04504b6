"""The explorer page without a browser: what it stores (float16 values equal to the trace's, the
state before the first step), how big it is, how it escapes user text; and the step marker of
exported heatmaps. The page's behaviour in Chromium is in test_explorer_browser.py."""

from __future__ import annotations

import base64
import html
import json
import re
import warnings
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import pytest
import torch

import lstm_viz
from lstm_viz import export, figures
from lstm_viz.explorer import _json, explorer_data, iframe_html, page_html

EVIL = '</script><img src=x onerror="window.__xss=1">'


def decode(packed: dict, shape) -> np.ndarray:
    raw = base64.b64decode(packed["b64"])
    return np.frombuffer(raw, dtype="<" + packed["dtype"]).astype(np.float64).reshape(shape)


@pytest.fixture(scope="module")
def lstm_trace():
    torch.manual_seed(1)
    lstm = torch.nn.LSTM(2, 5, num_layers=2, bidirectional=True)
    x = torch.randn(30, 2)
    labels = [EVIL if t == 4 else f"t{t}" for t in range(30)]
    return lstm_viz.trace(lstm, x, labels=labels)


def test_stored_values_are_the_trace_at_float16(lstm_trace):
    data, _ = explorer_data(lstm_trace, layer=1, direction=1, units=[4, 0, 2], window=(5, 25))
    assert data["names"] == ["forget", "input", "candidate", "output", "cell", "hidden"]
    for name in data["names"]:
        want = lstm_trace.gate(name, 1, 1)[5:25][:, [4, 0, 2]]
        got = decode(data["values"][name], want.shape)
        np.testing.assert_allclose(got, want, rtol=2**-11, atol=1e-7)  # float16: 11 bits
    # the backward direction reads step 25 just before step 24, the last one shown
    np.testing.assert_allclose(data["before"], lstm_trace.gate("cell", 1, 1)[25, [4, 0, 2]])
    assert data["labels"] == [f"t{t}" for t in range(5, 25)]


def test_first_step_reads_the_given_initial_state():
    lstm = torch.nn.LSTM(2, 3)
    h0, c0 = torch.zeros(1, 3), torch.tensor([[0.5, -1.0, 2.0]])
    tr = lstm_viz.trace(lstm, torch.randn(6, 2), state=(h0, c0))
    assert explorer_data(tr)[0]["before"] == [0.0, 0.0, 0.0]  # zeros unless told
    assert explorer_data(tr, state=(h0, c0))[0]["before"] == [0.5, -1.0, 2.0]
    gru = torch.nn.GRU(2, 3)
    tr = lstm_viz.trace(gru, torch.randn(6, 2), state=c0)
    data, _ = explorer_data(tr, state=c0, units=[2])
    assert data["carried"] == "hidden" and data["before"] == [2.0]
    with pytest.raises(ValueError, match="expected \\(1, 3\\)"):
        explorer_data(tr, state=torch.zeros(2, 3))
    # a batch: each sequence's own initial state
    h0, c0 = torch.zeros(1, 2, 3), torch.arange(6.0).reshape(1, 2, 3)
    tr = lstm_viz.trace(lstm, torch.randn(6, 2, 2), state=(h0, c0))
    assert explorer_data(tr, batch=1, state=(h0, c0))[0]["before"] == [3.0, 4.0, 5.0]


def test_packed_padding_is_cut_and_batches_picked():
    lstm = torch.nn.LSTM(2, 3, batch_first=True)
    x = torch.randn(2, 8, 2)
    packed = torch.nn.utils.rnn.pack_padded_sequence(x, [8, 5], batch_first=True)
    _, traces = lstm_viz.trace_model(lstm, packed)
    data, _ = explorer_data(traces[""], batch=1)
    assert data["steps"] == 5  # the NaN padding past the sequence's end is not shown
    with pytest.raises(ValueError, match="batch 2 out of range"):
        explorer_data(traces[""], batch=2)


def test_data_part_fits_a_megabyte_at_500_steps_64_units():
    torch.manual_seed(0)
    tr = lstm_viz.trace(torch.nn.LSTM(8, 64), torch.randn(500, 8))
    data, figure = explorer_data(tr)
    size = len(_json(data).encode())
    # six maps * 500 * 64 values * 2 bytes, in base64: 512 KB, plus labels
    assert 500_000 < size <= 1_000_000, size
    assert all(t.get("z") == [] for t in figure["data"] if t["type"] == "heatmap")
    page = lstm_viz.trace_html(tr)
    assert page.count("* plotly.js v") == 1  # inlined once
    assert len(page.encode()) < size + 5_000_000  # plotly.js is about 4.8 MB of it


def test_user_text_cannot_escape(lstm_trace, tmp_path):
    page = lstm_viz.trace_html(lstm_trace, tmp_path / "t.html", title=EVIL)
    assert (tmp_path / "t.html").read_text(encoding="utf-8") == page
    # the only tags on the page are the explorer's own: no user text opens one
    assert "<img" not in page.split("<script>window.PlotlyConfig", 1)[0]
    blocks = re.findall(r'<script type="application/json" id="[^"]+">(.*?)</script>', page, re.S)
    assert len(blocks) == 2 and all("<" not in b for b in blocks)
    data = json.loads(blocks[0])
    assert data["labels"][4] == EVIL and data["title"] == EVIL  # intact, shown as text
    frame = iframe_html(lstm_trace, title=EVIL)
    assert frame.isascii()  # reads the same in a notebook page of any encoding
    # the attribute holds exactly the page: nothing in it ends the attribute early
    (doc,) = re.findall(r"<iframe class=\"lstm-viz-explorer\" srcdoc='([^']*)'", frame)
    assert html.unescape(doc) == page_html(lstm_trace, title=EVIL)


def test_bad_options_explain_the_fix(lstm_trace):
    with pytest.raises(ValueError, match="outside the steps shown"):
        explorer_data(lstm_trace, window=(0, 10), step=12)
    with pytest.raises(ValueError, match="units must be"):
        explorer_data(lstm_trace, units=[5])
    with pytest.raises(ValueError, match="one label per step"):
        explorer_data(lstm_trace, labels=["a"])
    with pytest.raises(ValueError, match="direction 2 out of range"):
        explorer_data(lstm_trace, direction=2)
    with pytest.raises(ValueError, match="expected an lstm_viz.LSTMTrace"):
        lstm_viz.trace_html(np.zeros(3))


def test_projected_lstm_shows_h_before_the_projection():
    tr = lstm_viz.trace(torch.nn.LSTM(2, 4, proj_size=2), torch.randn(5, 2))
    data, _ = explorer_data(tr)
    assert data["names"][-1] == "hidden_unprojected" and data["projected"]


def test_exported_heatmaps_carry_the_step_marker():
    maps = {n: np.random.default_rng(0).random((20, 3)) for n in ("forget", "cell")}
    labels = [f"w{t}" for t in range(20)]
    spec = figures.gate_heatmaps(maps, labels, window=(5, 15)).to_plotly_json()
    assert not go.Figure(spec).layout.shapes
    marked = export.with_step_marker(go.Figure(spec), 7)
    # the same box gate_heatmaps draws when given the step itself
    drawn = figures.gate_heatmaps(maps, labels, window=(5, 15), step=7)
    assert marked.layout.shapes == drawn.layout.shapes
    again = export.with_step_marker(drawn, 9)  # a marker already there moves, not doubles
    assert len(again.layout.shapes) == 1 and again.layout.shapes[0].x0 == 9 - 5 - 0.5
    page = export.figure_html(go.Figure(spec), "heatmaps", step=7)
    assert '"shapes":[{"line":{"color":"black","width":1.5},"type":"rect","x0":1.5' in page
    with pytest.raises(ValueError, match="pick one in 5..14"):
        export.figure_html(go.Figure(spec), step=3)
    with pytest.raises(ValueError, match="only a heatmap figure"):
        export.with_step_marker(figures.overview(np.zeros((5, 2)), "cell", (0, 5)), 0)
    with pytest.raises(ValueError, match="only a heatmap figure"):
        export.with_step_marker(go.Figure(go.Bar(x=[1], y=[2])), 0)


def test_readme_notebook_example_runs(tmp_path, monkeypatch):
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    code = re.search(r"## In a notebook\n\n```python\n(.*?)```", readme, re.S).group(1)
    monkeypatch.chdir(tmp_path)  # it writes lstm.html
    scope: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. IPython's warning about a bare <iframe>
        exec(compile(code, "README.md", "exec"), scope)
    assert scope["traces"]["lstm"].gate("forget").shape == (1, 40, 32)
    assert (scope["closed"] - scope["out"]).abs().max() > 0  # the clamp reached the head
    assert (tmp_path / "lstm.html").stat().st_size > 4_000_000
