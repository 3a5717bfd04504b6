"""Your own model in the app (AppTest): the app asks what a file cannot say (an RNN's
nonlinearity) instead of guessing, shows what it loaded, runs whole PyTorch models and Keras files
with their heads, and explains how to type numbers for a multi-feature model."""

from __future__ import annotations

import io
import os

import numpy as np
import pytest
import torch
from conftest import array, chart, diagram_svg, errors, run, svgs

import lstm_viz
from lstm_viz import inputs


def _saved(state: dict) -> bytes:
    buf = io.BytesIO()
    torch.save(state, buf)
    return buf.getvalue()


def _upload(app, name: str, data: bytes, length: int = 30):
    at = app(model="upload", input="generated", length=str(length))
    at.file_uploader(key="lv_model_file").upload(name, data, "application/octet-stream")
    return run(at)


def test_a_relu_rnn_is_asked_for_never_guessed_and_every_number_is_the_modules(app):
    torch.manual_seed(4)
    rnn = torch.nn.RNN(1, 8, nonlinearity="relu")
    at = _upload(app, "relu.pt", _saved(rnn.state_dict()))
    assert not at.get("plotly_chart"), "traced before knowing tanh from ReLU"
    ask = at.radio(key="lv_upload_nonlinearity")
    assert set(ask.options) >= {"tanh", "relu"} and "nonlinearity" in at.warning[0].value
    ask.set_value("relu")
    run(at)
    x = inputs.generated_series(30, 0, at.slider(key="lv_gen_noise").value)
    want, _ = rnn(torch.as_tensor(x, dtype=torch.float32)[:, None])  # (T, 8): the module's own
    hidden = array(chart(at, "lv_heatmaps")["data"][-1]["z"])  # (units, steps)
    np.testing.assert_allclose(hidden, want.detach().numpy().T, rtol=0, atol=1e-6)
    at.slider(key="lv_step").set_value(2)
    run(at)
    h2 = want[2, 0].item()
    assert f"{h2:+.3f}" in diagram_svg(at)  # the diagram's h(t) for unit 0 at step 2
    tanh = torch.nn.RNN(1, 8, nonlinearity="tanh")
    tanh.load_state_dict(rnn.state_dict())
    assert not np.allclose(
        tanh(torch.as_tensor(x, dtype=torch.float32)[:, None])[0].detach(), want.detach(), atol=1e-3
    )


class _Net(torch.nn.Module):
    """The tutorial shape: an LSTM and a linear head, saved as the whole model's state_dict."""

    def __init__(self):
        super().__init__()
        self.lstm = torch.nn.LSTM(3, 6, batch_first=True)
        self.fc = torch.nn.Linear(6, 2)

    def forward(self, x):
        return self.fc(self.lstm(x)[0])


def test_a_whole_pytorch_model_runs_with_its_head_and_says_what_it_loaded(app):
    torch.manual_seed(5)
    net = _Net().eval()
    at = app(model="upload", input="text")
    at.file_uploader(key="lv_model_file").upload("net.pt", _saved(net.state_dict()), "x")
    run(at)
    loaded = "\n".join(t.value for t in at.text)
    assert "LSTM" in loaded and "head" in loaded.lower() and "3" in loaded
    box = at.text_area(key="lv_text")
    assert "3 numbers per step, one step per line" in box.label
    box.input("0.1 0.2 0.3\n1 2")  # a row of the wrong width: refused, not padded
    run(at)
    assert any("line 2 has 2 number(s)" in e for e in errors(at))
    rows = "0.1 0.2 0.3\n1 2 3\n-1 0 0.5"
    at.text_area(key="lv_text").input(rows)
    run(at)
    assert not at.error, errors(at)
    x = torch.tensor(inputs.parse_rows(rows, 3), dtype=torch.float32)[None]
    out = net(x)[0].detach().numpy()  # (3, 2): the head's outputs at every step
    at.slider(key="lv_step").set_value(1)
    run(at)
    bars = [s for s in svgs(at) if 'aria-label="prediction"' in s]
    assert bars and f"{out[1].max():.3f}" in bars[0]
    tr = lstm_viz.trace(net.lstm, x[0])
    np.testing.assert_allclose(
        array(chart(at, "lv_heatmaps")["data"][0]["z"]), tr.gate("forget").T, atol=1e-6
    )


@pytest.mark.skipif(os.environ.get("LSTM_VIZ_NO_KERAS") == "1", reason="keras left out on purpose")
def test_a_keras_file_opens_with_its_dense_head(app, tmp_path):
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    keras.utils.set_random_seed(3)
    model = keras.Sequential(
        [keras.Input((None, 2)), keras.layers.LSTM(5, return_sequences=True), keras.layers.Dense(1)]
    )
    path = tmp_path / "tiny.keras"
    model.save(path)
    at = app(model="upload", input="text")
    at.file_uploader(key="lv_model_file").upload("tiny.keras", path.read_bytes(), "x")
    run(at)
    rows = "0.5 -1\n1 0\n0 2\n-0.5 0.5"
    at.text_area(key="lv_text").input(rows)
    run(at)
    assert not at.error, errors(at)
    want = model.predict(inputs.parse_rows(rows, 2)[None].astype("float32"), verbose=0)[0, :, 0]
    at.slider(key="lv_step").set_value(3)
    run(at)
    shown = [m.value for m in at.metric]
    assert shown and abs(float(shown[0]) - want[3]) < 1e-3 * max(1, abs(want[3]))


def test_hostile_keras_files_get_one_message_each_and_the_app_stays_usable(app):
    """Truncated, hostile or mismatched Keras files (bad JSON, missing weights, wrong shapes, an
    HDF5 that is not a model, path traversal, huge claimed shapes): the app shows the message
    lstm_viz.load_model gives, then a good model still draws its heatmaps."""
    keras_files = pytest.importorskip("test_keras_files")
    at = app(model="upload", input="generated", length="20")
    good = _saved(torch.nn.LSTM(1, 4).state_dict())
    for name, data, _ in keras_files.hostile():
        with pytest.raises(ValueError) as said:
            lstm_viz.load_model(data)
        at.file_uploader(key="lv_model_file").set_value((f"{name}.keras", data, "x"))
        at.run()
        assert not at.exception, (name, [e.value for e in at.exception])
        assert any(str(said.value)[:50] in e for e in errors(at)), (name, errors(at))
        at.file_uploader(key="lv_model_file").set_value(("good.pt", good, "x"))
        run(at)
        assert not at.error and chart(at, "lv_heatmaps"), name


def test_a_one_unit_model_works_in_every_view(app):
    """Hidden size 1: no slider with min = max, no crash box, in any view."""
    from lstm_viz.ui.place import VIEWS

    data = _saved(torch.nn.LSTM(1, 1).state_dict())
    for view in VIEWS:
        at = app(view=view, model="upload", input="generated", length="12")
        at.file_uploader(key="lv_model_file").upload("one.pt", data, "x")
        run(at)
        assert not at.exception and not at.error, (view, errors(at))


def test_an_uploaded_model_searches_its_own_corpus(app):
    """Ask the corpus with an uploaded numeric model and a CSV corpus split by `sequence`: the
    matches are those lstm_viz.match finds on the same corpus, traced the same way."""
    torch.manual_seed(7)
    lstm = torch.nn.LSTM(1, 6)
    t = np.arange(600)
    rows = "\n".join(f"{k // 150},{np.sin(k / 5):.4f}" for k in t)
    at = app(view="corpus", model="upload", input="generated", length="40")
    at.file_uploader(key="lv_model_file").upload("m.pt", _saved(lstm.state_dict()), "x")
    run(at)
    at.file_uploader(key="lv_cx_file").upload("c.csv", f"sequence,x\n{rows}".encode(), "x")
    run(at)
    at.multiselect(key="lv_cx_units").set_value([0, 2])  # the user's own hypothesis
    at.slider(key="lv_cx_threshold").set_value(-0.5)
    run(at)
    assert not at.error, errors(at)
    said = "\n".join(m.value for m in at.markdown)
    assert "of 4 sequences" in said, said  # the sequence column split it in four
    found = [m.value for m in at.markdown if m.value.split(".")[0].isdigit()]
    corpus = lstm_viz.corpus_trace(
        lstm_viz.load_model(_saved(lstm.state_dict())),
        [np.sin(t[k : k + 150, None] / 5).astype(np.float32).round(4) for k in range(0, 600, 150)],
    )
    want = lstm_viz.match(corpus, [0, 2], -0.5, top=20)
    assert len(found) == len(want.matches) and want.matches
    first = want.matches[0]
    assert f"sequence {first.sequence}, steps {first.start}–{first.end}" in found[0]
