"""Figures, diagram, exports and input parsing: pure functions, tested without Streamlit."""

from __future__ import annotations

import ast
import base64
import csv
import io
import json
import re
import struct
import zlib
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest
import torch

import lstm_viz
from lstm_viz import export, figures, inputs
from lstm_viz.figures import style

NAMES = ["forget", "input", "candidate", "output", "cell", "hidden"]


@pytest.fixture(scope="module")
def small_trace():
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(1, 6)
    return lstm_viz.trace(lstm, torch.randn(9, 1), labels=[f"t{k}" for k in range(9)])


def revalidated(fig: go.Figure) -> go.Figure:
    """Rebuild from JSON with Plotly's validation on: the fast (unvalidated) figures must be
    valid figures too."""
    return go.Figure(json.loads(pio.to_json(fig, validate=False)))


def decoded(value) -> np.ndarray:
    """A Plotly array: a list, or a base64 typed array {dtype, bdata, shape}."""
    if isinstance(value, dict):
        data = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        return data.reshape([int(s) for s in str(value["shape"]).split(",")])
    return np.asarray(value)


def test_heatmaps_scales_units_and_marker(small_trace):
    maps = {n: small_trace.gate(n) for n in NAMES}
    fig = revalidated(
        figures.gate_heatmaps(maps, small_trace.labels, units=[5, 0], window=(2, 8), step=4)
    )
    assert [t.name for t in fig.data] == NAMES
    assert fig.data[0].y == ("5", "0") and fig.data[0].x[0] == "2 · t2"
    np.testing.assert_allclose(decoded(fig.data[4].z), maps["cell"][2:8, [5, 0]].T, atol=1e-6)
    gates_axis = fig.layout.coloraxis
    assert (gates_axis.cmin, gates_axis.cmax) == (0, 1)  # sigmoid gates: fixed 0..1
    cell_axis = fig.layout[fig.data[4].coloraxis]
    assert cell_axis.cmid == 0 and cell_axis.cmin == -cell_axis.cmax  # diverging about 0
    assert fig.layout.shapes[0].x0 == 4 - 2 - 0.5  # the step marker, in window coordinates


def test_heatmaps_refuse_bad_shapes_with_a_hint():
    with pytest.raises(ValueError, match="need"):
        figures.gate_heatmaps({"cell": np.zeros((3, 2))}, ["a", "b"])
    with pytest.raises(ValueError, match="window"):
        figures.gate_heatmaps({"cell": np.zeros((3, 2))}, ["a", "b", "c"], window=(2, 9))


def test_user_text_is_escaped_everywhere():
    evil = "<img src=x onerror=alert(1)>"
    fig = figures.gate_heatmaps({"cell": np.zeros((2, 1))}, [evil, "<b>x</b>"])
    spec = pio.to_json(fig)
    assert "<img" not in spec and "<b>x" not in spec and "&lt;img" in spec
    values = dict(
        c_prev=0, h_prev=0, input=0.5, forget=0.5, candidate=0, output=0.5, cell=0, hidden=0
    )
    cell = figures.cell_diagram("lstm", values, unit=0, step=0, token=evil)
    assert "<img" not in pio.to_json(cell)
    assert "<img" not in figures.cell_diagram_svg("lstm", values, unit=0, step=0, token=evil)
    assert "<img" not in export.figure_html(fig, title=evil).split("<script", 1)[0]


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
def test_cell_diagrams_write_out_the_update(kind):
    v = dict(
        c_prev=0.5,
        h_prev=-0.2,
        input=0.25,
        forget=0.8,
        candidate=-0.4,
        output=0.9,
        cell=0.3,
        hidden=0.26,
        reset=0.1,
        update=0.7,
        new=0.2,
    )
    fig = revalidated(figures.cell_diagram(kind, v, unit=3, step=7, token="she"))
    title = fig.layout.title.text
    assert "unit 3, step 7" in title
    if kind == "lstm":  # c(t) = f*c(t-1) + i*g with this step's numbers
        assert "0.800×(+0.500) + 0.250×(-0.400) = +0.300" in title
    if kind == "gru":
        assert "0.300×(+0.200) + 0.700×(-0.200)" in title


DIAGRAM_VALUES = dict(
    c_prev=0.5, h_prev=-0.2, input=0.25, forget=0.8, candidate=-0.4, output=0.9, cell=0.3,
    hidden=0.26, reset=0.1, update=0.7, new=0.2,
)  # fmt: skip


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
def test_cell_diagram_renderings_share_one_geometry(kind):
    fig = figures.cell_diagram(kind, DIAGRAM_VALUES, unit=3, step=7)
    svg = figures.cell_diagram_svg(kind, DIAGRAM_VALUES, unit=3, step=7)
    cell = figures.cell_geometry(kind, DIAGRAM_VALUES, unit=3, step=7)
    rects = re.findall(r'<rect x="([-\d.]+)" y="([-\d.]+)" [^>]*fill="(#[0-9a-f]{6})"', svg)
    assert [s.fillcolor for s in fig.layout.shapes] == [f for _, _, f in rects]
    assert len(rects) == len(cell.blocks) == {"lstm": 5, "gru": 3, "rnn": 1}[kind]
    top = 19 * (cell.title.count("<br>") + 1) + 10  # the SVG's title lines above the drawing
    for shape, (x, y, _), b in zip(fig.layout.shapes, rects, cell.blocks, strict=True):
        assert (shape.x0, shape.y1) == pytest.approx((b.x - 0.8, b.y + 0.55))
        assert (float(x), float(y)) == pytest.approx((shape.x0 * 48, top + (7.2 - shape.y1) * 48))
    if kind == "lstm":  # forget 0.8 and input 0.25 on the gate scale, the candidate diverging
        assert [b.fill for b in cell.blocks[:2]] == [style.colour(0.8, True), "#b1d4ea"]
        assert "<b>candidate</b><br>-0.400" in [b.label for b in cell.blocks]
    with pytest.raises(ValueError, match="unknown cell kind"):
        figures.cell_diagram_svg("transformer", DIAGRAM_VALUES, unit=3, step=7)


def test_colours_follow_the_heatmap_scales():
    assert style.colour(0.0, True) == "#f7fbff" and style.colour(1.0, True) == "#08306b"
    assert style.colour(0.25, True) == "#b1d4ea"  # halfway to the middle stop, rounded to even
    assert style.colour(0.0, False) == "#f7f7f7" and style.colour(-2.0, False, peak=2) == "#2166ac"
    values = np.linspace(-1.5, 1.5, 13)
    for gate in (True, False):
        many = style.colours(values, gate)
        hexes = ["#{:02x}{:02x}{:02x}".format(*rgb) for rgb in many]
        assert hexes == [style.colour(v, gate) for v in values]


def png_pixels(svg: str) -> np.ndarray:
    """The (H, W, 3) pixels of the one unfiltered RGB PNG embedded in an SVG panel."""
    data = base64.b64decode(re.search(r"base64,([^\"]+)", svg).group(1))
    w, h = struct.unpack(">II", data[16:24])
    at = data.index(b"IDAT") - 4
    size = struct.unpack(">I", data[at : at + 4])[0]
    raw = zlib.decompress(data[at + 8 : at + 8 + size])
    rows = [raw[r * (3 * w + 1) + 1 : (r + 1) * (3 * w + 1)] for r in range(h)]
    return np.frombuffer(b"".join(rows), np.uint8).reshape(h, w, 3)


def test_unit_strip_and_prediction_bars_svg():
    rng = np.random.default_rng(1)
    values = {"forget": rng.random(6), "cell": 3 * rng.standard_normal(6)}
    strip = figures.unit_strip(values, [4, 1, 5], step=2)
    assert strip.startswith("<svg") and "every unit at step 2" in strip
    pixels = png_pixels(strip)  # a row per name, units left to right in the order given
    np.testing.assert_array_equal(pixels[0], style.colours(values["forget"][[4, 1, 5]], True))
    peak = np.abs(values["cell"][[4, 1, 5]]).max()  # the cell row's own symmetric scale
    np.testing.assert_array_equal(pixels[1], style.colours(values["cell"][[4, 1, 5]], False, peak))
    bars = figures.prediction_bars(["He", "She", "<x>"], np.array([0.2, 0.7, 0.1]), 3)
    names = re.findall(r'text-anchor="end">([^<]+)</text>', bars)
    assert names == ["She", "He", "&lt;x&gt;"]  # most likely first, user text escaped
    assert re.findall(r'<rect [^>]*width="([\d.]+)"', bars) == ["210.0", "60.0", "30.0"]
    over = revalidated(figures.overview(np.random.rand(700, 4), "cell", (100, 400)))
    assert decoded(over.data[0].z).shape == (4, 200)  # pooled into at most 200 time bins


def test_figures_import_no_model_trace_or_streamlit():
    root = Path(figures.__file__).parent
    for path in root.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                found = [node.module or ""]
            else:
                continue
            for name in found:
                inside = name.startswith("lstm_viz")
                allowed = name == "lstm_viz.cells" or name.startswith("lstm_viz.figures")
                assert not (inside and not allowed), f"{path.name} imports {name}"
                assert not name.startswith(("streamlit", "torch")), f"{path.name} imports {name}"


def test_csv_export_is_long_format(small_trace):
    rows = list(csv.reader(io.StringIO(export.trace_csv(small_trace))))
    assert rows[0] == export.CSV_HEADER
    assert len(rows) - 1 == 9 * 6 * 6  # steps x names x units
    step, token, layer, direction, name, unit, value = rows[1 + 9 * 6 * 4 + 6 * 2 + 3]
    assert (name, step, token, unit) == ("cell", "2", "t2", "3")
    assert float(value) == pytest.approx(float(small_trace.gate("cell")[2, 3]), abs=0)


def test_npz_and_html_exports(small_trace, tmp_path):
    path = tmp_path / "t.npz"
    path.write_bytes(export.trace_npz(small_trace))
    back = lstm_viz.LSTMTrace.load(path)
    np.testing.assert_array_equal(back.gate("forget"), small_trace.gate("forget"))
    page = export.figure_html(figures.overview(np.zeros((5, 2)), "cell", (0, 5)))
    assert "<script src=" not in page and len(page) > 1_000_000  # plotly.js inlined: offline


def test_inputs_parse_and_refuse_with_hints():
    assert inputs.parse_numbers("1, 2.5 3e-1").tolist() == [1.0, 2.5, 0.3]
    with pytest.raises(ValueError, match="not a number"):
        inputs.parse_numbers("1 two")
    with pytest.raises(ValueError, match="at most"):
        inputs.parse_numbers(" ".join(["1"] * (inputs.MAX_STEPS + 1)))
    cols = inputs.read_csv(b"a,b,c\n1,x,2\n3,y,4\n")
    assert list(cols) == ["a", "c"]
    for bad, hint in [
        (b"", "empty"),
        (b"a,b\n", "no rows"),
        (b"a\nx\ny\n", "no numeric"),
        (b"\x00\x01\x02", "binary"),
    ]:
        with pytest.raises(ValueError, match=hint):
            inputs.read_csv(bad)
    with pytest.raises(ValueError, match="rows 3"):
        inputs.column_values(inputs.read_csv(b"a\n1\nnan\n2\n"), ["a"])


def test_state_dict_upload_builds_the_right_core():
    torch.manual_seed(0)
    for module in (
        torch.nn.LSTM(3, 5, num_layers=2, bidirectional=True),
        torch.nn.GRU(2, 4),
        torch.nn.RNN(2, 4),
        torch.nn.LSTM(2, 6, proj_size=3),
    ):
        buf = io.BytesIO()
        torch.save(module.state_dict(), buf)
        built = inputs.load_model_file(buf.getvalue())
        assert type(built) is type(module)
        for a, b in zip(built.state_dict().values(), module.state_dict().values(), strict=True):
            assert torch.equal(a, b)
    buf = io.BytesIO()
    torch.save(torch.nn.GRU(2, 4).state_dict(), buf)
    with pytest.raises(ValueError, match="looks like a GRU"):
        inputs.load_model_file(buf.getvalue(), kind="lstm")


def test_checkpoint_upload_round_trip(tmp_path):
    from lstm_viz.models import ModelConfig, SequenceModel, save_checkpoint

    torch.manual_seed(0)
    model = SequenceModel(ModelConfig(core="gru", input_size=2, hidden_size=5, task="adding"))
    save_checkpoint(model, tmp_path / "m.pt")
    back = inputs.load_model_file((tmp_path / "m.pt").read_bytes())
    assert isinstance(back, SequenceModel) and back.config.core == "gru"
    for a, b in zip(back.state_dict().values(), model.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_heatmap_payload_stays_under_two_megabytes():
    from lstm_viz.ui.gates import window_steps

    rng = np.random.default_rng(0)
    maps = {n: rng.standard_normal((1000, 128)).astype(np.float32) for n in NAMES}
    labels = [f"{v:.4g}" for v in rng.standard_normal(1000)]
    window = (0, window_steps(128, 1000))
    heat = pio.to_json(figures.gate_heatmaps(maps, labels, window=window), validate=False)
    over = pio.to_json(figures.overview(maps["cell"], "cell", window), validate=False)
    assert len(heat) + len(over) <= 2_000_000


def test_ranked_units_draw_their_r_beside_the_chance_band():
    labels = [f"t{k}" for k in range(30)]
    rows = [("#1 cell 3", np.linspace(-1, 1, 30)), ("#2 hidden 0", np.ones(30))]
    fig = figures.ranked_units_figure(np.arange(30.0), "step", rows, labels, None, [-0.9, 0.3], 0.5)
    heat, bars = fig.data
    assert heat.type == "heatmap" and list(heat.y) == ["signal: step", "#1 cell 3", "#2 hidden 0"]
    assert list(bars.x) == [0.9, 0.3] and list(bars.y) == ["#1 cell 3", "#2 hidden 0"]
    assert list(bars.marker.color) == [style.LINE, style.MUTED]  # above the band, inside it
    (band,) = fig.layout.shapes
    assert (band.x0, band.x1, band.xref) == (0, 0.5, "x2")
    assert fig.layout.annotations[0].text == "chance (95%): 0.50"
    short = figures.ranked_units_figure(
        np.arange(30.0), "step", rows, labels, None, [-0.9, 0.3], float("nan")
    )
    assert not short.layout.shapes and short.layout.annotations[0].text == "too short to tell"
    assert list(short.data[1].marker.color) == [style.MUTED] * 2
    plain = figures.ranked_units_figure(np.arange(30.0), "step", rows, labels)
    assert len(plain.data) == 1  # no scores: the heatmap alone, as before
    with pytest.raises(ValueError, match="one r per row"):
        figures.ranked_units_figure(np.arange(30.0), "step", rows, labels, None, [0.1])
