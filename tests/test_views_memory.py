"""The memory, intervene and find-a-cell views, driven headless with AppTest: every control, no
exception anywhere; a clamp changes the prediction shown and Reset restores it exactly; the
find-a-cell ranking is `lstm_viz.unit_search`'s; a forecast model's outputs are shown in the data's
units (its readout)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("streamlit.testing.v1")
from conftest import array, charts, errors, markdown, run  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

import lstm_viz  # noqa: E402
from lstm_viz import claims  # noqa: E402
from lstm_viz.tasks import cue  # noqa: E402
from lstm_viz.ui import loaders  # noqa: E402
from lstm_viz.ui.analysis_cache import answer_step, cue_step  # noqa: E402

APP = str(Path(__file__).resolve().parents[1] / "app.py")
DEMO = loaders.DEMO
SHIPPED = set(loaders.model_names())
needs = {
    name: pytest.mark.skipif(name not in SHIPPED, reason=f"{name} weights not shipped")
    for name in ("cue_lstm", "cue_gru", "cue_rnn_tanh", "chars_lstm")
}


# ---- memory ----------------------------------------------------------------------------------


def test_memory_view_every_control_on_the_demo(app):
    at = app("Memory", model=DEMO, input="generated", length="60")
    assert {"lv_mem_retention", "lv_mem_saliency", "lv_mem_saturation"} <= set(charts(at))
    at.slider(key="lv_step").set_value(40)
    at.selectbox(key="lv_unit").set_value(7)
    run(at)
    at.toggle(key="lv_mem_log").set_value(True)
    run(at)
    spec = charts(at)
    assert spec["lv_mem_saliency"]["layout"]["yaxis"]["type"] == "log"
    # the chosen unit's share is the engine's retention
    model = loaders.load_model(DEMO)
    tr, _ = model.trace(_demo_x(at))
    kept = lstm_viz.retention(tr, 0, 40).kept
    # a product of 40 float32 gates: ~1e-7 per factor if the GEMM's thread count differs
    np.testing.assert_allclose(_ys(spec["lv_mem_retention"]["data"][0]), kept[:, 7], rtol=2e-5)
    # the saliency bars are lstm_viz.saliency of the model at this step
    sal = lstm_viz.saliency(model, _demo_x(at), 40)
    shown = _ys(spec["lv_mem_saliency"]["data"][0])  # on a log axis a 0 is left out (NaN)
    # float32 gradients: the summation order may differ with the thread count (~1e-6)
    np.testing.assert_allclose(shown, np.where(sal > 0, sal, np.nan), rtol=1e-4)
    assert not errors(at)
    # the step is shared with the gates view
    at.segmented_control(key="lv_view").set_value("Gates, step by step")
    run(at)
    assert at.slider(key="lv_step").value == 40


def _demo_x(at: AppTest) -> np.ndarray:
    from lstm_viz import inputs

    x = inputs.generated_series(60, 0, at.slider(key="lv_gen_noise").value)
    return inputs.numbers_input(loaders.load_model(DEMO), x).x


def _ys(trace: dict) -> np.ndarray:
    y = trace["y"]
    if isinstance(y, dict):  # a base64 typed array
        import base64

        return np.frombuffer(base64.b64decode(y["bdata"]), dtype=np.dtype(y["dtype"]))
    return np.asarray([np.nan if v is None else v for v in y], dtype=np.float64)


@needs["cue_gru"]
@needs["cue_rnn_tanh"]
def test_memory_view_gru_and_rnn_explain_themselves(app):
    at = app("Memory", model="cue_gru")
    assert "lv_mem_retention" in charts(at)  # the update gate's products
    assert any("update" in c.value for c in at.caption)
    at.selectbox(key="lv_model").set_value("cue_rnn_tanh")
    run(at)
    assert "lv_mem_retention" not in charts(at) and "lv_mem_saliency" in charts(at)
    assert any("plain RNN has no gate" in i.value for i in at.info)


# ---- intervene -------------------------------------------------------------------------------


def _table(at: AppTest):
    """The view's one table (AppTest finds dataframes by position, not key)."""
    assert len(at.dataframe) == 1
    return at.dataframe[0].value


@pytest.mark.skipif("forecast_co2_lstm" not in SHIPPED, reason="forecast weights not shipped")
def test_forecast_outputs_are_shown_in_the_data_units(app):
    """The cell panel and the intervene table show the model's readout (ppm), not its z-scores."""
    from lstm_viz.tasks import forecast

    at = app(model="forecast_co2_lstm")
    model = loaders.load_model("forecast_co2_lstm")
    _, preds = model.trace(forecast.examples("co2")[0].x)
    ppm = model.readout(preds)[:, 0]  # the next change in ppm: z * std + mean
    assert not np.allclose(ppm, preds[:, 0])  # the scaling is not the identity here
    assert at.metric[0].value == f"{ppm[0]:.4g}"
    at.segmented_control(key="lv_view").set_value("Intervene")
    run(at)
    table = _table(at)
    np.testing.assert_allclose(table["before"], ppm[[0, len(ppm) - 1]], rtol=1e-6)


@needs["cue_lstm"]
def test_clamp_changes_the_prediction_and_reset_restores_it_exactly(app):
    at = app("Intervene", model="cue_lstm")
    before = _table(at).copy()
    assert list(before["where"]) == ["now (step 0)", "answer (step 8)", "last (step 14)"]
    assert before["answer before"][1] == "She"
    at.button(key="lv_iv_exp_cut").click()  # close the forget gate after the name
    run(at)
    after = _table(at)
    # the retrained LSTM (issue 13) barely keeps She: p 0.999 -> 0.536, as the README says
    assert after["answer after"][1] == "She" and 0.5 < after["p after"][1] < 0.6
    # the numbers shown are the model's own with that clamp
    model = loaders.load_model("cue_lstm")
    example = cue.examples()[0]
    clamp = lstm_viz.Clamp("forget", 0.0, steps=range(2, 15))
    _, preds = model.trace(example.x, interventions=[clamp])
    p = np.exp(preds[8] - preds[8].max())
    assert after["p after"][1] == pytest.approx(p.max() / p.sum(), rel=1e-6)
    assert {"lv_iv_pred", "lv_iv_curve", "lv_iv_diff"} <= set(charts(at))
    at.button(key="lv_iv_reset").click()
    run(at)
    restored = _table(at)
    assert list(restored.columns) == list(before.columns)
    assert restored.equals(before)  # exactly the unclamped prediction
    assert "lv_iv_diff" not in charts(at)


@needs["cue_lstm"]
def test_intervene_every_control(app):
    at = app("Intervene", model="cue_lstm")
    at.slider(key="lv_step").set_value(8)
    for name in at.selectbox(key="lv_iv_gate").options:
        at.selectbox(key="lv_iv_gate").set_value(name)
        run(at)
    at.selectbox(key="lv_iv_gate").set_value("forget")
    at.number_input(key="lv_iv_value").set_value(1.5)  # outside a sigmoid gate's range
    run(at)
    assert any("sigmoid gate" in e and "0..1" in e for e in errors(at))
    assert at.button(key="lv_iv_apply").disabled
    at.number_input(key="lv_iv_value").set_value(1.0)
    at.multiselect(key="lv_iv_units").set_value([3, 5])
    at.slider(key="lv_iv_steps").set_value((2, 10))
    run(at)
    assert not errors(at)
    at.button(key="lv_iv_apply").click()
    run(at)
    assert "forget = 1 on units 3, 5 (layer 0), steps 2..10" in markdown(at)
    at.selectbox(key="lv_iv_gate").set_value("candidate")
    at.number_input(key="lv_iv_value").set_value(-0.5)
    run(at)
    at.button(key="lv_iv_add").click()  # two clamps at once
    run(at)
    assert "forget = 1 on units 3, 5" in markdown(at)
    assert "candidate = -0.5 on units 3, 5" in markdown(at)
    at.radio(key="lv_iv_mode").set_value("ablate")
    run(at)
    at.button(key="lv_iv_apply").click()
    run(at)
    diff = charts(at)["lv_iv_diff"]
    assert [a["text"] for a in diff["layout"]["annotations"]][:2] == [
        "<b>cell: after − before</b>",
        "<b>hidden: after − before</b>",
    ]
    assert any(t.get("name", "").endswith("clamped") for t in diff["data"])  # x marks
    # the suggested experiment carries the shipped model's recorded evidence, n and interval
    shown = "\n".join(c.value for c in at.caption)
    assert claims.versus_chance("cue_lstm.forget_closed.gap100") in shown and "n = 5,000" in shown
    at.radio(key="lv_iv_exp_units").set_value("memory")
    run(at)
    at.button(key="lv_iv_exp_hold").click()
    run(at)
    assert at.selectbox(key="lv_iv_gate").value == "forget"
    assert at.number_input(key="lv_iv_value").value == 1.0
    assert "input = 0 on units 17, 19, 27" in markdown(at)  # the recorded memory units
    at.button(key="lv_iv_reset").click()
    run(at)
    assert not errors(at)


@needs["cue_gru"]
@needs["cue_rnn_tanh"]
def test_intervene_on_gru_and_rnn(app):
    at = app("Intervene", model="cue_gru")
    assert at.selectbox(key="lv_iv_gate").options == ["reset", "update", "new", "hidden"]
    at.button(key="lv_iv_exp_hold").click()  # update = 1: hold the state
    run(at)
    assert "answer after" in _table(at).columns
    at.selectbox(key="lv_model").set_value("cue_rnn_tanh")
    run(at)
    at.button(key="lv_iv_exp_cut").click()
    run(at)
    assert "lv_iv_diff" in charts(at) and not errors(at)


def test_intervene_on_an_uploaded_two_layer_bidirectional_lstm():
    torch.manual_seed(1)
    lstm = torch.nn.LSTM(1, 6, num_layers=2, bidirectional=True)
    buf = io.BytesIO()
    torch.save(lstm.state_dict(), buf)
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update(model="upload", input="generated", length="30")
    run(at)
    at.file_uploader(key="lv_model_file").upload("mine.pt", buf.getvalue())
    run(at)
    at.segmented_control(key="lv_view").set_value("Intervene")
    run(at)
    at.selectbox(key="lv_layer").set_value(1)
    at.selectbox(key="lv_direction").set_value(1)
    at.button(key="lv_iv_exp_cut").click()
    run(at)
    table = _table(at)
    assert "size of the change" in table.columns and table["size of the change"].iloc[-1] > 0
    at.segmented_control(key="lv_view").set_value("Memory")  # saliency on the bare module
    run(at)
    at.selectbox(key="lv_layer").set_value(1)
    at.selectbox(key="lv_direction").set_value(1)
    run(at)
    assert {"lv_mem_retention", "lv_mem_saliency"} <= set(charts(at))
    at.segmented_control(key="lv_view").set_value("Find a cell")
    run(at)
    assert at.selectbox(key="lv_fc_signal").options == ["input value", "step index"]
    at.selectbox(key="lv_layer").set_value(1)
    run(at)
    assert not errors(at)


# ---- find a cell -----------------------------------------------------------------------------


@needs["chars_lstm"]
def test_find_cell_ranking_is_unit_search_and_pins_in_the_gates_view(app):
    at = app("Find a cell", model="chars_lstm")
    signals = at.selectbox(key="lv_fc_signal").options
    assert signals[:2] == ["inside quotes", "bracket depth"]
    from lstm_viz.tasks import chars

    model = loaders.load_model("chars_lstm")
    text = '"we will go now (please), look at this quiz!" anna said. the dog ran home.'
    tr, _ = model.trace(chars.encode_text(text))
    pairs = (("inside quotes", chars.inside_quotes), ("bracket depth", chars.bracket_depth))
    for name, fn in pairs:
        at.selectbox(key="lv_fc_signal").set_value(name)
        run(at)
        table = _table(at)
        for state in ("cell", "hidden"):
            mine = table[table["state"] == state]
            want = lstm_viz.unit_search(tr, fn(text), name=state)
            assert list(mine["unit"]) == [u for u, _ in want]
            np.testing.assert_array_equal(mine["r"].to_numpy(), [r for _, r in want])
        assert list(np.abs(table["r"])) == sorted(np.abs(table["r"]), reverse=True)
        # beside the ranking, the band chance reaches (the signal shifted circularly), in the
        # figure and in words, and no flag: inside quotes is not time passing on this input
        nb = lstm_viz.unit_null(tr, fn(text))
        beat = int((np.abs(table["r"]) > nb.band).sum())
        text_md = " ".join(m.value for m in at.markdown)
        assert f"of up to {nb.band:.2f} by chance" in text_md and not at.warning
        assert f"{beat} of the {len(table)} units beat it" in text_md and beat >= 1
        fig = charts(at)["lv_fc_rows"]
        bars = fig["data"][1]
        assert bars["type"] == "bar" and len(array(bars["x"])) == 8
        np.testing.assert_allclose(array(bars["x"]), np.abs(table["r"].to_numpy()[:8]), rtol=1e-6)
        assert [sh["x1"] for sh in fig["layout"]["shapes"]] == [pytest.approx(nb.band)]
    at.slider(key="lv_fc_top").set_value(3)
    run(at)
    rows = charts(at)["lv_fc_rows"]["data"][0]["y"]
    assert len(rows) == 4 and rows[0].startswith("signal")
    top_state, top_unit = table["state"].iloc[0], int(table["unit"].iloc[0])
    at.button(key="lv_fc_pin_0").click()  # one click: to the gates view, the unit pinned first
    run(at)
    assert at.session_state["lv_view"] == "Gates, step by step"
    assert at.multiselect(key="lv_pinned").value == [top_unit]
    assert charts(at)["lv_heatmaps"]["data"][0]["y"][0] == str(top_unit)
    assert at.selectbox(key="lv_unit").value == top_unit
    assert top_state in ("cell", "hidden")


@needs["cue_lstm"]
def test_find_cell_position_since_the_cue(app):
    at = app("Find a cell", model="cue_lstm")
    assert at.selectbox(key="lv_fc_signal").options == ["position since the cue", "step index"]
    labels = cue.examples()[0].labels
    assert cue_step(labels, {"cue_answer": cue.CUE_ANSWER}) == 1
    assert answer_step(labels, {"cue_answer": cue.CUE_ANSWER}) == 8
    signal = charts(at)["lv_fc_rows"]["data"][0]
    assert signal["y"][0] == "signal: position since the cue"
    # on the 15-step Martha sentence units score |r| near 1 just by drifting: both flags, no band
    flags = [w.value for w in at.warning]
    assert len(flags) == 2 and flags[0].startswith("Time passing: position since the cue moves")
    assert flags[1].startswith("Too short to tell: of the 14 circular shifts")
    assert any("too short to tell (10 usable shifts of 20 needed)" in m.value for m in at.markdown)
    assert "shapes" not in charts(at)["lv_fc_rows"]["layout"]
    at.radio(key="lv_input_kind").set_value("text")
    run(at)
    at.text_area(key="lv_text").input("the house was full and the debate went on .")
    run(at)  # no name: that signal is not offered, and says why
    assert at.selectbox(key="lv_fc_signal").options == ["step index"]
    assert any("no name or town" in c.value for c in at.caption)


def test_find_cell_input_value_on_a_numeric_model(app):
    at = app("Find a cell", model=DEMO, input="generated", length="80")
    for name in at.selectbox(key="lv_fc_signal").options:
        at.selectbox(key="lv_fc_signal").set_value(name)
        run(at)
        assert "lv_fc_rows" in charts(at)
    at.button(key="lv_fc_pin_2").click()
    run(at)
    assert at.session_state["lv_view"] == "Gates, step by step" and not errors(at)
