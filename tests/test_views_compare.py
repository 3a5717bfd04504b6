"""AppTest of the RNN vs GRU vs LSTM, Forecast and Lesson views: every control, no exception, and
what each shows equals what the package computes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("streamlit.testing.v1")
from conftest import chart, place, run  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from lstm_viz import claims, compare, core_tables, lessons, stats  # noqa: E402
from lstm_viz.models import load_shipped, shipped_metrics  # noqa: E402
from lstm_viz.tasks import cue, forecast, series  # noqa: E402
from lstm_viz.ui import forecast_view  # noqa: E402

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def answers(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_compare_every_control(app):
    at = app("RNN vs GRU vs LSTM")
    assert list(answers(at)) == ["RNN (tanh)", "GRU", "LSTM"]
    for key in ("lv_cmp_saliency", "lv_cmp_accuracy", "lv_cmp_adding"):
        assert any(c.proto.id.endswith("-" + key) for c in at.get("plotly_chart")), key
    at.selectbox(key="lv_cmp_cue").set_value("Boston")
    at.selectbox(key="lv_cmp_clause").set_value(1)
    at.slider(key="lv_cmp_gap").set_value(200)
    at.number_input(key="lv_cmp_seed").set_value(7)
    run(at)
    seq = compare.cue_sequence("Boston", 200, seed=7, clause=1)
    for name, title in compare.CUE_MODELS.items():
        probs = compare.answer_probs(load_shipped(name), seq.ids, seq.query_step)
        assert answers(at)[title] == cue.ANSWERS[int(np.argmax(probs))]
    # since issue 13 the plain RNN (12,000 steps) learned every answer, and holds Boston too
    assert set(answers(at).values()) == {"Massachusetts"}
    text = " ".join(m.value for m in at.markdown)
    # at gap 200, live on the fresh sentences behind the README's cue table: the same count as
    # recorded there, with n and Wilson intervals overall and per answer
    by = core_tables.accuracy_by_answer(load_shipped("cue_rnn_tanh"), 200, fresh=True)
    right, rec = sum(v["correct"] for v in by.values()), claims.get("cue_rnn_tanh.accuracy.gap200")
    assert (right, 2000) == (rec["k"], rec["n"]) and right < 2000
    lo, hi = stats.wilson(right, 2000)
    he = by["He"]
    assert (
        f"- RNN (tanh): {right:,} of 2,000 right (95% CI {100 * lo:.2f}–{100 * hi:.2f}%); every "
        f"cue right for 5 of 6 answers; misses He ({he['correct']} of {he['n']}, 95% CI "
        f"{100 * he['lo']:.2f}–{100 * he['hi']:.2f}%, says He)"
    ) in text
    # every point of the accuracy chart is the recorded fresh measurement with its Wilson bar
    spec = chart(at, "lv_cmp_accuracy")
    for trace_ in spec["data"]:
        row = core_tables.fresh_cue()[trace_["name"]]
        assert trace_["x"] == list(row) == [5, 10, 20, 50, 100, 200, 400]
        assert trace_["y"] == pytest.approx([100 * c["value"] for c in row.values()])
        bars = trace_["error_y"]
        assert bars["array"] == pytest.approx([100 * (c["hi"] - c["value"]) for c in row.values()])
        assert bars["arrayminus"] == pytest.approx(
            [100 * (c["value"] - c["lo"]) for c in row.values()]
        )
        assert all(c["n"] == 2000 for c in row.values())
    assert "n = 2,000 per point" in json.dumps(spec["layout"]["annotations"])
    # the adding problem: recorded rows say "no interval", the T = 50 re-measurement its t interval
    assert "n = 1,000 test sequences per point, no interval" in text
    assert "the cores separate here" in text  # the adding problem still separates them
    fresh = claims.get("adding.mse.adding_gru")
    assert f"GRU {fresh['value']:.4f} (95% CI {fresh['lo']:.4f}–{fresh['hi']:.4f})" in text
    assert "re-measured on 5,000 fresh sequences" in text
    diamonds = [d for d in chart(at, "lv_cmp_adding")["data"] if d["mode"] == "markers"]
    assert len(diamonds) == 4 and all(d["x"] == [50] for d in diamonds)
    gru = next(d for d in diamonds if d["name"] == "GRU, fresh")
    assert gru["error_y"]["array"] == pytest.approx([fresh["hi"] - fresh["value"]])
    assert "failed to learn those answers" not in text
    # the gradient at the cue: this sentence's values and the spread at gap 200, in the one
    # protocol's words (the lesson's stop 8 says the same of its sentence at its gap)
    here = {
        title: compare.answer_saliency(
            compare.float64_copy(load_shipped(name)), seq.ids, seq.query_step, seq.answer
        )[seq.cue_step]
        for name, title in compare.CUE_MODELS.items()
    }
    back = seq.query_step - seq.cue_step
    assert compare.gradient_reading(here, back, compare.gradient_spread(200)) in text
    assert "of 100 (this sentence's order:" in text
    at.slider(key="lv_cmp_gap").set_value(lessons.moment(7).numbers["gap"])
    run(at)
    text = " ".join(m.value for m in at.markdown)
    lesson = lessons.text(7)
    spread = lesson[lesson.index("That varies") : lesson.index(" (this sentence's order")]
    assert spread in text  # the lesson's spread, word for word, beside the view's sentence
    at.slider(key="lv_cmp_gap").set_value(5)
    at.selectbox(key="lv_cmp_cue").set_value("Martha")
    run(at)
    assert set(answers(at).values()) == {"She"}
    assert not at.error


def test_forecast_switch_controls_and_from_step(app):
    at = app("Forecast")  # the app opens on the cue LSTM: not a forecasting model
    assert at.info and "forecasting models" in at.info[0].value
    at.button(key="lv_fc_switch_forecast_sunspots_lstm").click()
    run(at)
    assert at.session_state["lv_model"] == "forecast_sunspots_lstm"
    table = at.dataframe[0].value
    assert list(table.iloc[:, 0])[:2] == ["LSTM", "persistence (last value)"]
    # the live one-step RMSEs on the held-out tail equal the recorded ones
    assert table.iloc[0, 1] == pytest.approx(15.11404, abs=1e-4)
    assert table.iloc[1, 1] == pytest.approx(30.34565, abs=1e-4)
    recorded = shipped_metrics("forecast_sunspots_lstm")  # each score says its n
    assert f"(n = {recorded['test_steps']:,} steps)" in table.columns[1]
    assert f"n = {recorded['multistep_launches']} launches, no interval" in table.columns[3]
    # each one-step RMSE has its block-bootstrap interval, and the verdicts their paired ones,
    # equal to the package's computed here on the same series and predictions
    model = load_shipped("forecast_sunspots_lstm")
    extra = model.config.extra
    values = series.variant_series(extra["variant"]).values
    cmp = series.tail_comparison(
        values, forecast.one_step(model, values), extra["test_start"], extra["season"]
    )
    assert cmp.n == recorded["test_steps"] and f"{cmp.block}-step blocks" in table.columns[2]
    for row, name in enumerate(("model", "persistence", "seasonal naive")):
        _, lo, hi = cmp.rmse[name]
        assert lo < table.iloc[row, 1] < hi
        assert table.iloc[row, 2] == f"{lo:.4g}–{hi:.4g}"
    text = " ".join(m.value for m in at.markdown)
    assert forecast_view.comparison_text(cmp) in text
    d, lo, hi = cmp.diff["persistence"]
    assert hi < 0 and f"beats persistence: RMSE difference {d:.1f} (95% CI {lo:.1f} to " in text
    assert f"{hi:.1f}, n = {cmp.n}), and beats seasonal naive" in text
    at.slider(key="lv_fc_start_forecast_sunspots_lstm").set_value(200)
    at.slider(key="lv_fc_horizon_forecast_sunspots_lstm").set_value(30)
    at.toggle(key="lv_fc_whole_forecast_sunspots_lstm").set_value(True)
    run(at)
    assert "this launch (30 steps, no interval)" == at.dataframe[0].value.columns[-1]
    at.session_state["lv_step"] = 120  # the step-by-step view's step
    run(at)
    at.button(key="lv_fc_from_step").click()
    run(at)
    assert at.slider(key="lv_fc_start_forecast_sunspots_lstm").value == 120
    assert not at.error


def test_forecast_train_on_a_csv_column(app):
    at = app("Forecast", model="forecast_co2_lstm", input="example")
    t = np.arange(1000)
    rows = "\n".join(f"{k},{np.sin(k / 8) + 0.002 * k:.5f},1.0" for k in t)
    at.file_uploader(key="lv_fc_csv").upload("mine.csv", f"t,y,flat\n{rows}".encode(), "text/csv")
    run(at)
    assert at.selectbox(key="lv_fc_column").value == "y"  # index-like column skipped
    at.number_input(key="lv_fc_season").set_value(50)
    at.number_input(key="lv_fc_steps").set_value(600)  # the default: the one-minute promise
    at.button(key="lv_fc_train").click()
    run(at)
    assert at.selectbox(key="lv_fc_model").value == "mine.csv · y"
    trained = at.session_state["lv_stash"]["lv_fc_trained"]["mine.csv · y"]
    assert trained["metrics"]["steps"] == 600 and trained["metrics"]["season"] == 50
    assert trained["seconds"] < 60  # 1,000 points in under a minute (about 3-5 s here)
    assert trained["metrics"]["model_rmse"] < trained["metrics"]["persistence_rmse"]
    assert any(b.proto.label.startswith("Download this model") for b in at.get("download_button"))
    at.slider(key="lv_fc_horizon_mine_csv___y").set_value(10)
    run(at)
    at.selectbox(key="lv_fc_column").set_value("flat")  # a constant column: a readable error
    at.button(key="lv_fc_train").click()
    run(at)
    assert at.error and "constant" in at.error[0].value
    at.selectbox(key="lv_fc_model").set_value("sidebar")
    run(at)
    assert at.slider(key="lv_fc_start_forecast_co2_lstm").value == 1763


def test_lesson_walks_every_stop_and_back(app):
    at = app("Lesson")
    assert "stops" in at.markdown[1].value
    at.button(key="lv_lesson_start").click()
    run(at)
    n = len(lessons.LESSONS)
    for k in range(1, n + 1):
        lesson, moment = lessons.LESSONS[k - 1], lessons.moment(k - 1)
        headings = [m.value for m in at.markdown]
        assert f"## {k} / {n} · {lesson.title}" in headings
        assert lessons.text(k - 1) in headings
        ss = at.session_state
        assert ss["lv_model"] == lesson.model and ss["lv_input_kind"] == "example"
        assert ss["lv_example"] == lessons.example(lesson.model, lesson.example).name
        assert place(at).step == moment.step
        assert at.selectbox(key="lv_model").value == lesson.model  # the sidebar really moved
        assert not at.error
        if k < n:
            at.button(key="lv_lesson_next").click()
            run(at)
    assert at.button(key="lv_lesson_next").disabled
    for k in range(n - 1, -1, -1):  # back to the start page, each stop placed again
        at.button(key="lv_lesson_back").click()
        run(at)
        if k:
            assert place(at).step == lessons.moment(k - 1).step
            assert f"## {k} / {n} · {lessons.LESSONS[k - 1].title}" in [
                m.value for m in at.markdown
            ]
    assert place(at).stop == 0
    assert any(b.key == "lv_lesson_start" for b in at.button)


def test_lesson_restore_and_open_in_the_step_view(app):
    at = app("Lesson")
    at.button(key="lv_lesson_start").click()
    run(at)
    at.button(key="lv_lesson_next").click()  # stop 2: chars, unit 4 at the first '('
    run(at)
    at.selectbox(key="lv_model").set_value("cue_gru")  # the user wanders off in the sidebar
    run(at)
    at.button(key="lv_lesson_restore").click()
    run(at)
    assert at.selectbox(key="lv_model").value == "chars_lstm"
    at.button(key="lv_lesson_open").click()
    run(at)
    moment = lessons.moment(1)
    assert at.session_state["lv_view"] == "Gates, step by step"
    assert at.slider(key="lv_step").value == moment.step
    assert at.selectbox(key="lv_unit").value == moment.unit


def test_step_lines_log_floor_gaps_and_bad_shapes():
    from lstm_viz import figures

    labels = ["a", "b", "<b>c</b>", "d"]
    fig = figures.step_lines(
        {"x": np.array([0.0, 1e-3, 1.0, np.nan])}, labels, step=2, log=True, marks={1: "cue"}
    )
    y = np.asarray(fig.data[0].y, dtype=float)
    assert y[0] == 1e-4 and np.isnan(y[3])  # an exact 0 at the floor, NaN left as a gap
    assert "exact zeros drawn at 1e-04" in fig.layout.title.text
    assert "<b>" not in "".join(fig.data[0].customdata)  # user text is escaped
    with pytest.raises(ValueError, match="one value per step"):
        figures.step_lines({"x": np.zeros(3)}, labels)
    with pytest.raises(ValueError, match="same length"):
        figures.forecast_figure(np.zeros(4), labels, np.zeros(3), 2, 1, {})
