"""The app driven headless with Streamlit's AppTest: every control, no exception anywhere, and the
heatmaps the app sends hold exactly the values `lstm_viz.trace` computes."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("streamlit.testing.v1")
from conftest import array, chart, diagram_svg, run, svgs  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

import lstm_viz  # noqa: E402
from lstm_viz import inputs  # noqa: E402
from lstm_viz.ui import loaders  # noqa: E402
from lstm_viz.ui.export_panel import KINDS  # noqa: E402
from lstm_viz.ui.gates import ORDER  # noqa: E402

APP = str(Path(__file__).resolve().parents[1] / "app.py")
DEMO = loaders.DEMO


def step_of(at: AppTest) -> int:
    return at.slider(key="lv_step").value


def test_first_render_has_every_panel(app):
    at = app()
    heat = chart(at, "lv_heatmaps")
    assert len(heat["data"]) >= 1
    assert len(svgs(at)) >= 2  # the cell diagram, every unit, (the prediction)
    assert "c(t) = f·c(t-1) + i·g" in diagram_svg(at) or "h(t)" in diagram_svg(at)
    assert "step" in at.slider(key="lv_step").key
    assert not at.error


def test_heatmaps_equal_the_engine_trace(app):
    at = app(model=DEMO, input="generated", length="120", seed="5")
    model = loaders.load_model(DEMO)
    x = inputs.generated_series(120, 5, at.slider(key="lv_gen_noise").value)
    user = inputs.numbers_input(model, x)
    enc = model.encode(user.x)[0]
    tr = lstm_viz.trace(model.core, enc)
    spec = chart(at, "lv_heatmaps")
    # the map titles (the colour keys' titles are annotations named "key ...")
    names = [a["text"].strip("<b>/") for a in spec["layout"]["annotations"] if "name" not in a]
    assert names == ["forget", "input", "candidate", "output", "cell", "hidden"]
    for trace_spec, name in zip(spec["data"], names, strict=True):
        z = array(trace_spec["z"])  # (units, steps), float32 in the wire format
        np.testing.assert_allclose(z, tr.gate(name).T, rtol=0, atol=1e-6)
    # the first map carries the step categories: step index and the input label
    assert spec["data"][0]["x"][3].startswith("3 · ")


def test_step_controls(app):
    at = app(model=DEMO, input="generated", length="50")
    at.slider(key="lv_step").set_value(10)
    run(at)
    assert step_of(at) == 10
    at.button(key="lv_next").click()
    run(at)
    assert step_of(at) == 11
    at.button(key="lv_prev").click()
    run(at)
    assert step_of(at) == 10
    assert "step 10<" in diagram_svg(at)
    at.selectbox(key="lv_speed").set_value(8)
    run(at)
    at.button(key="lv_play").click()  # play: one tick advances one step
    run(at)
    assert any(b.key == "lv_pause" for b in at.button)  # playing
    assert step_of(at) == 11
    run(at)  # the next tick
    assert step_of(at) == 12
    at.button(key="lv_pause").click()
    run(at)
    assert any(b.key == "lv_play" for b in at.button)  # paused
    held = step_of(at)
    run(at)
    assert step_of(at) == held
    at.selectbox(key="lv_unit").set_value(5)
    run(at)
    assert "unit 5, step" in diagram_svg(at)
    at.toggle(key="lv_exact").set_value(True)  # exact values of every unit at this step
    run(at)
    table = at.dataframe[0].value
    assert list(table.columns[:2]) == ["unit", "forget"] and len(table) == 64


def test_every_shipped_model_and_example(app):
    at = app()
    for name in loaders.model_names():
        at.selectbox(key="lv_model").set_value(name)
        run(at)
        keys = [w.key for w in at.selectbox]
        options = at.selectbox(key="lv_example").options if "lv_example" in keys else []
        for option in options[:4]:
            at.selectbox(key="lv_example").set_value(option)
            run(at)
            chart(at, "lv_heatmaps")
        assert not at.error, [e.value for e in at.error]


def test_unit_order_filter_and_pins(app):
    at = app(model=DEMO, input="generated", length="80")
    for order in ORDER:  # the option values; .options holds their shown titles
        at.selectbox(key="lv_order").set_value(order)
        run(at)
        if order == "correlation":
            for signal in at.selectbox(key="lv_signal").options:
                at.selectbox(key="lv_signal").set_value(signal)
                run(at)
    at.slider(key="lv_top_k").set_value(8)
    at.multiselect(key="lv_pinned").set_value([40, 3])
    run(at)
    y = chart(at, "lv_heatmaps")["data"][0]["y"]
    assert y[:2] == ["40", "3"] and len(y) == 10


def test_typed_text_numbers_and_bad_text(app):
    at = app(model=DEMO, input="text")
    at.text_area(key="lv_text").input("0.1, 0.5 -0.2 1e-1")
    run(at)
    assert chart(at, "lv_heatmaps")["data"][0]["x"][0].startswith("0 · ")
    at.text_area(key="lv_text").input("<script>alert(1)</script>")
    run(at)
    assert at.error and "not a number" in at.error[0].value


def test_generated_long_input_has_window_and_overview(app):
    at = app(model=DEMO, input="generated", length="1200")
    chart(at, "lv_overview")
    at.slider(key="lv_window_start").set_value(300)
    run(at)
    x = chart(at, "lv_heatmaps")["data"][0]["x"]
    assert x[0].startswith("300 · ")
    at.slider(key="lv_step").set_value(1150)  # outside the window: the window follows
    run(at)
    assert chart(at, "lv_heatmaps")["data"][0]["x"][-1].startswith("1199 · ")


def test_csv_upload_and_column_pick(app):
    at = app(model=DEMO, input="csv")
    csv = "time,temp,label\n" + "\n".join(f"{t},{np.sin(t / 5):.3f},a" for t in range(60))
    at.file_uploader(key="lv_csv").upload("series.csv", csv.encode(), "text/csv")
    run(at)
    at.multiselect(key="lv_csv_columns").set_value(["temp"])
    run(at)
    assert len(chart(at, "lv_heatmaps")["data"][0]["x"]) == 60
    at.file_uploader(key="lv_csv").set_value(("empty.csv", b"", "text/csv"))
    run(at)
    assert at.error and "empty" in at.error[0].value


def _state_dict_bytes(module: torch.nn.Module) -> bytes:
    buf = io.BytesIO()
    torch.save(module.state_dict(), buf)
    return buf.getvalue()


def test_uploaded_lstm_layers_directions_and_exports(app):
    torch.manual_seed(1)
    lstm = torch.nn.LSTM(2, 12, num_layers=2, bidirectional=True)
    at = app(model="upload", input="generated", length="40")
    at.file_uploader(key="lv_model_file").upload("mine.pt", _state_dict_bytes(lstm))
    run(at)
    assert at.selectbox(key="lv_layer").options == ["0", "1"]
    at.selectbox(key="lv_layer").set_value(1)
    at.selectbox(key="lv_direction").set_value(1)
    run(at)
    spec = chart(at, "lv_heatmaps")
    x = np.column_stack([inputs.generated_series(40, 0, 0.1), np.zeros(40)])
    tr = lstm_viz.trace(lstm, torch.as_tensor(x, dtype=torch.float32))
    np.testing.assert_allclose(array(spec["data"][4]["z"]), tr.gate("cell", 1, 1).T, atol=1e-6)
    for kind in KINDS:
        at.selectbox(key="lv_export_kind").set_value(kind)
        run(at)
        at.button(key="lv_export_prepare").click()
        run(at)
        assert at.get("download_button"), kind
    assert "LSTM" in "\n".join(t.value for t in at.text)  # what was loaded, said plainly


def test_uploaded_gru_and_bad_file(app):
    torch.manual_seed(2)
    gru = torch.nn.GRU(1, 8)
    at = app(model="upload", input="generated", length="30")
    at.file_uploader(key="lv_model_file").upload("gru.pt", _state_dict_bytes(gru))
    run(at)
    notes = chart(at, "lv_heatmaps")["layout"]["annotations"]
    names = [a["text"].strip("<b>/") for a in notes if "name" not in a]  # not the keys' titles
    assert names == ["reset", "update", "new", "hidden"]
    at.file_uploader(key="lv_model_file").set_value(("junk.pt", b"not a model", "x"))
    run(at)
    assert at.error and "could not read" in at.error[0].value


@pytest.mark.skipif("cue_lstm" not in loaders.model_names(), reason="cue weights not shipped")
def test_typed_sentence_on_the_cue_model(app):
    at = app(model="cue_lstm", input="text")
    at.text_area(key="lv_text").input("as Mary proposed the bill in the house . She")
    run(at)
    x = chart(at, "lv_heatmaps")["data"][0]["x"]
    assert x[1] == "1 · Mary" and len(x) == 10
    assert any('aria-label="prediction"' in s for s in svgs(at))  # top answers with probabilities
    # a word the model does not know is read as filler (issue 13), not refused
    at.text_area(key="lv_text").input("as Zorro proposed the bill. He")
    run(at)
    assert not at.error
    assert chart(at, "lv_heatmaps")["data"][0]["x"][1] == "1 · Zorro"


def test_step_and_pins_survive_a_visit_to_a_view_without_them(app):
    at = app()
    at.slider(key="lv_step").set_value(5)
    at.multiselect(key="lv_pinned").set_value([2])
    run(at)
    at.session_state["lv_view"] = "RNN vs GRU vs LSTM"
    run(at)
    at.session_state["lv_view"] = "Gates, step by step"
    run(at)
    assert at.slider(key="lv_step").value == 5
    assert at.multiselect(key="lv_pinned").value == [2]


def test_an_input_error_keeps_the_last_good_page(app):
    at = app(model=DEMO, input="text")
    at.text_area(key="lv_text").input("0 1 2 3 4 5")
    run(at)
    before = chart(at, "lv_heatmaps")["data"][0]["z"]
    at.text_area(key="lv_text").input("0 1 two 3")
    run(at)
    assert at.error and "two" in at.error[0].value  # the message, beside the input
    assert chart(at, "lv_heatmaps")["data"][0]["z"] == before  # the last good trace stays
    assert any("last input that worked" in c.value for c in at.caption)


@pytest.mark.skipif("cue_lstm" not in loaders.model_names(), reason="cue weights not shipped")
def test_any_sentence_on_the_cue_model_with_its_words_visible(app):
    """Unknown words are read as filler and greyed on the time axis; a capitalised one gets a
    note, not an error; chips put the model's words into the text; a template starts one."""
    at = app(model="cue_lstm", input="text")
    at.text_area(key="lv_text").input("Yesterday Zorro went to the market with Martha and then")
    run(at)
    assert not at.error
    ticks = chart(at, "lv_heatmaps")["layout"]["xaxis"]["ticktext"]
    assert '<span style="color:#9a9a9a">Zorro</span>' in ticks and "Martha" in ticks
    assert any("does not know 'Zorro'" in c.value for c in at.caption)
    towns = next(b for b in at.get("button_group") if b.key == "lv_chip_2")
    towns.set_value("Boston")
    run(at)
    assert at.text_area(key="lv_text").value.endswith("and then Boston")
    at.selectbox(key="lv_template").set_value(at.selectbox(key="lv_template").options[1])
    run(at)
    assert "Santa Fe" in at.text_area(key="lv_text").value and not at.error
