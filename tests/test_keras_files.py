"""Keras files through `lstm_viz.load_model`, held to Keras's own `model.predict`.

Real Keras 3 models (on its torch backend: no TensorFlow) are saved as `.keras` and `.h5`, read
back with json + h5py by lstm_viz, and must give Keras's outputs within 1e-5 (float32). Keras 2
files are hand-built with h5py in Keras 2's layout. Hostile files each get one ValueError.
"""

from __future__ import annotations

import os

os.environ["KERAS_BACKEND"] = "torch"  # before keras is imported: no TensorFlow needed

import functools  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import tempfile  # noqa: E402
import zipfile  # noqa: E402

import h5py  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from keras import layers as L  # noqa: E402

import lstm_viz  # noqa: E402

RNG = np.random.default_rng(0)
# keras on numpy 2 notes a deprecated __array__ signature on every variable: not ours to fix
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


def randomised(model):
    """Random weights everywhere (Keras starts biases at 0, which would hide a bias mistake)."""
    model.set_weights([RNG.normal(0, 0.5, w.shape).astype("float32") for w in model.get_weights()])
    return model


def seq(*layers, ints=False):
    inp = keras.Input((None,), dtype="int32") if ints else keras.Input((None, 3))
    return randomised(keras.Sequential([inp, *layers]))


def functional():
    inp = keras.Input((None, 3))
    out = L.Dense(2)(L.LSTM(4, return_sequences=True)(inp))
    return randomised(keras.Model(inp, out))


# name -> (model builder, groups expected as (kind, layers, bidirectional))
CASES = {
    "lstm_timedistributed": (
        lambda: seq(L.LSTM(6, return_sequences=True), L.TimeDistributed(L.Dense(2))),
        [("LSTM", 1, False)],
    ),
    "gru_dense": (lambda: seq(L.GRU(5, return_sequences=True), L.Dense(1)), [("GRU", 1, False)]),
    "simplernn_relu_then_tanh": (
        lambda: seq(
            L.SimpleRNN(4, activation="relu", return_sequences=True),
            L.SimpleRNN(4, return_sequences=True),
            L.Dense(3, activation="softmax"),
        ),
        [("RNN", 1, False), ("RNN", 1, False)],
    ),
    "bidirectional_last_step": (
        lambda: seq(L.Bidirectional(L.LSTM(4)), L.Dense(1, activation="sigmoid")),
        [("LSTM", 1, True)],
    ),
    "stacked_into_one_module": (
        lambda: seq(
            L.LSTM(5, return_sequences=True),
            L.Dropout(0.3),
            L.LSTM(5, return_sequences=True),
            L.Dense(1),
        ),
        [("LSTM", 2, False)],
    ),
    "tutorial_64_then_32": (  # two sizes: two modules; only the last step is returned
        lambda: seq(L.LSTM(6, return_sequences=True), L.LSTM(3), L.Dense(1)),
        [("LSTM", 1, False), ("LSTM", 1, False)],
    ),
    "embedding_bigru_x2": (
        lambda: seq(
            L.Embedding(12, 4),
            L.Bidirectional(L.GRU(3, return_sequences=True)),
            L.Bidirectional(L.GRU(3, return_sequences=True)),
            L.Dense(5, activation="relu"),
            L.Dense(2),
            ints=True,
        ),
        [("GRU", 2, True)],
    ),
    "no_bias": (
        lambda: seq(L.LSTM(4, use_bias=False, return_sequences=True), L.Dense(1, use_bias=False)),
        [("LSTM", 1, False)],
    ),
    "functional_chain": (functional, [("LSTM", 1, False)]),
}


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """Every case saved as .keras and .h5 once, with an input and Keras's own prediction."""
    keras.utils.set_random_seed(0)
    out = {}
    folder = tmp_path_factory.mktemp("keras")
    for name, (build, _) in CASES.items():
        model = build()
        ints = model.inputs[0].dtype == "int32"
        x = RNG.integers(0, 12, (2, 7)) if ints else RNG.normal(0, 1, (2, 7, 3))
        x = x.astype("int32" if ints else "float32")
        for ext in (".keras", ".h5"):
            model.save(folder / f"{name}{ext}")
        out[name] = (folder / name, x, model.predict(x, verbose=0), model)
    return out


@pytest.mark.parametrize("ext", [".keras", ".h5"])
@pytest.mark.parametrize("name", list(CASES))
def test_outputs_equal_keras_predict(saved, name, ext):
    stem, x, want, _ = saved[name]
    model = lstm_viz.load_model(stem.with_suffix(ext))
    with torch.no_grad():
        got = model(x) if model.summary.returns == "every step" else model.final_output(x)
    np.testing.assert_allclose(got.numpy(), want, rtol=0, atol=1e-5)
    groups = [(type(g).__name__, g.num_layers, g.bidirectional) for g in model.groups]
    assert groups == CASES[name][1]
    tr, preds = model.trace(x[0])  # the app's path: the top group traced, the head per step
    if model.summary.returns == "every step":
        np.testing.assert_allclose(preds, want[0], rtol=0, atol=1e-5)
    assert tr.steps == 7 and preds.shape[0] == 7


def test_gates_are_keras_gates(saved):
    """Step 0 from a zero state, by hand from Keras's own kernels: Keras's i, f, c, o are
    lstm_viz's input, forget, candidate, output; GRU's z is the update gate."""
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    stem, x, _, km = saved["lstm_timedistributed"]
    kernel, _, bias = km.layers[0].get_weights()
    z = x[0, 0] @ kernel + bias
    tr, _ = lstm_viz.load_model(stem.with_suffix(".keras")).trace(x[0])
    for k, (name, f) in enumerate(
        [("input", sig), ("forget", sig), ("candidate", np.tanh), ("output", sig)]
    ):
        np.testing.assert_allclose(tr.gate(name)[0], f(z[6 * k : 6 * (k + 1)]), atol=1e-6)
    stem, x, _, km = saved["gru_dense"]
    kernel, _, bias = km.layers[0].get_weights()
    z = x[0, 0] @ kernel + bias[0] + bias[1]  # h0 = 0: the recurrent part is its bias
    tr, _ = lstm_viz.load_model(stem.with_suffix(".h5")).trace(x[0])
    np.testing.assert_allclose(tr.gate("update")[0], sig(z[:5]), atol=1e-6)
    np.testing.assert_allclose(tr.gate("reset")[0], sig(z[5:10]), atol=1e-6)


def test_summary_says_what_was_loaded(saved):
    model = lstm_viz.load_model(saved["embedding_bigru_x2"][0].with_suffix(".keras"))
    s = model.summary
    assert s.kind == f"Keras {keras.__version__} .keras file"
    assert (s.vocab_size, s.layers, s.hidden, s.bidirectional) == (12, 2, [3, 3], True)
    assert s.head == "Linear(6, 5) -> ReLU -> Linear(5, 2)" and s.output_size == 2
    assert s.parameters == model_params(saved["embedding_bigru_x2"][3])
    last = lstm_viz.load_model(saved["tutorial_64_then_32"][0].with_suffix(".h5")).summary
    assert last.returns == "last step" and "final_output(x) equals it" in str(last)
    assert "group 1: LSTM, 1 layer(s) of 3" in str(last)


def model_params(km) -> int:
    return int(sum(np.prod(w.shape) for w in km.get_weights()))


def test_a_lower_group_can_be_traced_and_clamped(saved):
    """Tracing group 0 runs group 1 and the head on its traced output: a clamp reaches them."""
    stem, x, want, _ = saved["simplernn_relu_then_tanh"]
    model = lstm_viz.load_model(stem.with_suffix(".keras"))
    tr, preds = model.trace(x[0], group=0)
    assert tr.config["nonlinearity"] == "relu"
    np.testing.assert_allclose(preds, want[0], atol=1e-5)
    _, clamped = model.trace(x[0], [lstm_viz.Clamp("hidden", 0.0, units=[0, 1, 2, 3])], group=0)
    h = np.zeros(4, "float32")  # group 1 with zero input: its own recurrence, by hand
    upper, head = model.groups[1], model.head
    for t in range(7):
        h = np.tanh(upper.bias_ih_l0.detach().numpy() + upper.weight_hh_l0.detach().numpy() @ h)
        np.testing.assert_allclose(clamped[t], head(torch.from_numpy(h)).detach(), atol=1e-5)
    with pytest.raises(ValueError, match="group 2 out of range"):
        model.trace(x[0], group=2)


# --- Keras 2 files, built by hand in Keras 2's HDF5 layout ---------------------------------------


def keras2_h5(config: dict, weights: dict[str, list[tuple[str, np.ndarray]]]) -> bytes:
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        f.attrs["model_config"] = json.dumps(config)
        f.attrs["keras_version"] = "2.15.0"
        f.attrs["backend"] = "tensorflow"
        g = f.create_group("model_weights")
        g.attrs["layer_names"] = [n.encode() for n in weights]
        for layer, arrays in weights.items():
            lg = g.create_group(layer)
            lg.attrs["weight_names"] = [n.encode() for n, _ in arrays]
            for n, a in arrays:
                lg.create_dataset(n, data=a)
    return buf.getvalue()


def rnn_config(cls, name, units, **kw):
    base = dict(name=name, units=units, activation="tanh", recurrent_activation="sigmoid")
    base |= dict(use_bias=True, return_sequences=True, go_backwards=False, stateful=False)
    return {"class_name": cls, "config": {**base, "time_major": False, "unroll": False, **kw}}


def test_keras2_sequential_lstm():
    km = seq(L.LSTM(4, return_sequences=True), L.Dense(2))
    x = RNG.normal(0, 1, (2, 5, 3)).astype("float32")
    k, r, b = km.layers[0].get_weights()
    dk, db = km.layers[1].get_weights()
    inp = {"batch_input_shape": [None, None, 3], "dtype": "float32", "name": "input_1"}
    dense = {"name": "dense", "units": 2, "activation": "linear", "use_bias": True}
    config = {"class_name": "Sequential", "config": {"name": "sequential", "layers": [
        {"class_name": "InputLayer", "config": inp},
        rnn_config("LSTM", "lstm", 4, implementation=2),
        {"class_name": "Dense", "config": dense},
    ]}}  # fmt: skip
    names = [
        "lstm/lstm_cell/kernel:0",
        "lstm/lstm_cell/recurrent_kernel:0",
        "lstm/lstm_cell/bias:0",
    ]
    data = keras2_h5(config, {
        "lstm": list(zip(names, [k, r, b], strict=True)),
        "dense": [("dense/kernel:0", dk), ("dense/bias:0", db)],
    })  # fmt: skip
    model = lstm_viz.load_model(data)
    assert model.summary.kind == "Keras 2.15.0 .h5 file"
    np.testing.assert_allclose(model(x).detach(), km.predict(x, verbose=0), atol=1e-5)


def test_keras2_functional_bidirectional_gru():
    km = seq(L.Bidirectional(L.GRU(3, return_sequences=True)))
    x = RNG.normal(0, 1, (2, 5, 3)).astype("float32")
    ws = km.layers[0].get_weights()  # forward kernel, recurrent, bias, then backward
    parts = [f"{d}_gru/gru_cell/{v}:0" for d in ("forward", "backward")
             for v in ("kernel", "recurrent_kernel", "bias")]  # fmt: skip
    bi = {"name": "bidirectional", "merge_mode": "concat", "layer": rnn_config("GRU", "gru", 3,
          reset_after=True)}  # fmt: skip
    config = {"class_name": "Functional", "config": {"name": "model", "layers": [
        {"class_name": "InputLayer", "name": "input_1", "inbound_nodes": [],
         "config": {"batch_input_shape": [None, None, 3], "name": "input_1"}},
        {"class_name": "Bidirectional", "name": "bidirectional", "config": bi,
         "inbound_nodes": [[["input_1", 0, 0, {}]]]},
    ], "input_layers": [["input_1", 0, 0]],
       "output_layers": [["bidirectional", 0, 0]]}}  # fmt: skip
    data = keras2_h5(config, {"bidirectional": [
        (f"bidirectional/{p}", w) for p, w in zip(parts, ws, strict=True)]})  # fmt: skip
    model = lstm_viz.load_model(data)
    np.testing.assert_allclose(model(x).detach(), km.predict(x, verbose=0), atol=1e-5)
    # Keras 2.0-2.2 wrote a Sequential's config as a bare list; hard_sigmoid was their default
    old = {"class_name": "Sequential", "config": [rnn_config("LSTM", "lstm", 4,
           recurrent_activation="hard_sigmoid")]}  # fmt: skip
    with pytest.raises(ValueError, match="'lstm': recurrent_activation='hard_sigmoid'"):
        lstm_viz.load_model(keras2_h5(old, {"lstm": []}))


# --- hostile and unsupported files: one clear ValueError each ------------------------------------


@functools.cache
def base() -> tuple[bytes, bytes]:
    """A small LSTM + Dense model as (.keras bytes, .h5 bytes)."""
    # names unlike the classes: a .keras file keeps weights under class names (layers/lstm)
    lstm, dense = L.LSTM(4, return_sequences=True, name="encoder"), L.Dense(2, name="readout")
    return keras_bytes(seq(lstm, dense))


def keras_bytes(model, exts=(".keras", ".h5")) -> tuple[bytes, ...]:
    with tempfile.TemporaryDirectory() as folder:
        out = []
        for ext in exts:
            model.save(f"{folder}/m{ext}")
            out.append(open(f"{folder}/m{ext}", "rb").read())  # noqa: SIM115
    return tuple(out)


def rezip(data: bytes, **members) -> bytes:
    """The .keras archive with members replaced (bytes), dropped (None) or added."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        names = {n.replace("__", "/").replace("_dot_", "."): v for n, v in members.items()}
        for info in src.infolist():
            if info.filename not in names:
                dst.writestr(info.filename, src.read(info.filename))
        for name, value in names.items():
            if value is not None:
                dst.writestr(name, value)
    return out.getvalue()


def edit_h5(data: bytes, edit) -> bytes:
    buf = io.BytesIO(data)
    with h5py.File(buf, "r+") as f:
        edit(f)
    return buf.getvalue()


def edit_weights(data: bytes, edit) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        weights = z.read("model.weights.h5")
    return rezip(data, model_dot_weights_dot_h5=edit_h5(weights, edit))


def edit_config(data: bytes, edit) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        config = json.loads(z.read("config.json"))
    edit(config["config"]["layers"])
    return rezip(data, config_dot_json=json.dumps(config))


def huge(f):
    del f["layers/lstm/cell/vars/0"]
    f["layers/lstm/cell/vars"].create_dataset("0", shape=(10**5, 10**5), dtype="f4", chunks=True)


def external(f):
    del f["model_weights/encoder"]
    f["model_weights/encoder"] = h5py.ExternalLink("/etc/hostname", "/")


def lstm_units(layers, units=5):
    layers[1]["config"]["units"] = units


def insert(cls, config):
    return lambda layers: layers.insert(2, {"class_name": cls, "config": config})


def not_a_model() -> bytes:
    return edit_h5(keras2_h5({}, {}), lambda f: f.attrs.__delitem__("model_config"))


def weights_only() -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        seq(L.LSTM(2)).save_weights(f"{folder}/m.weights.h5")
        return open(f"{folder}/m.weights.h5", "rb").read()  # noqa: SIM115


def bomb() -> bytes:
    out = io.BytesIO(base()[0])
    with zipfile.ZipFile(out, "a", zipfile.ZIP_DEFLATED) as z:
        z.writestr("assets/zeros", bytes(40 * 2**20))
    return out.getvalue()


def hostile() -> list[tuple[str, bytes, str]]:
    k, h = base()
    lambda_config = {"name": "lam", "function": {"class_name": "__lambda__", "config": {
        "code": "4wEAAAAAAAAA", "defaults": None, "closure": None}}}  # fmt: skip
    return [
        ("bad json", rezip(k, config_dot_json=b"{not json"), "config.json is not valid JSON"),
        ("no weights", rezip(k, model_dot_weights_dot_h5=None), "has no model.weights.h5"),
        ("missing layer", edit_weights(k, lambda f: f.__delitem__("layers/dense")),
         "'readout': Dense needs 2 weight arrays, the file has 0"),
        ("wrong shape", edit_config(k, lstm_units),
         r"'encoder': a weight has shape \(3, 16\), LSTM\(5\) needs \('\?', 20\)"),
        ("traversal", rezip(k, __dot__dot__evil_dot_txt=b"x"), "points outside the archive"),
        ("huge shape", edit_weights(k, huge), r"claims shape \(100000, 100000\).*limit of 32 MB"),
        ("bomb", bomb(), r"unpacks to 40\.0 MB; the limit is 32 MB"),
        ("not a model", not_a_model(), "no model_config .it is not a Keras model file"),
        ("weights only", weights_only(), "no model_config .it holds weights only"),
        ("external link", edit_h5(h, external), "links 'encoder' to another file"),
        ("cut .keras", k[: len(k) // 2], "damaged archive"),
        ("cut .h5", h[: len(h) // 2], "could not read"),
        ("nan", edit_weights(k, lambda f: f["layers/dense/vars/1"].__setitem__(0, np.nan)),
         "NaN or inf"),
        ("ints", edit_weights(k, lambda f: (f["layers/dense/vars"].__delitem__("1"),
         f["layers/dense/vars"].create_dataset("1", data=np.arange(2)))), "holds int64 data"),
        ("lambda", edit_config(k, insert("Lambda", lambda_config)), "'lam': Lambda layers are not"),
        ("custom", edit_config(k, insert("MyAttention", {"name": "att"})), "'att': MyAttention"),
            ]  # fmt: skip


def branching() -> bytes:
    inp = keras.Input((None, 3))
    both = L.Concatenate()(
        [L.LSTM(2, return_sequences=True)(inp), L.GRU(2, return_sequences=True)(inp)]
    )
    return keras_bytes(keras.Model(inp, both), [".keras"])[0]


def unsupported() -> list[tuple[str, bytes, str]]:
    """Real Keras models whose settings torch's modules cannot compute (refused by name)."""
    cases = [
        (L.GRU(2, reset_after=False), "'gru[_0-9]*': reset_after=False"),
        (L.LSTM(2, activation="relu"), "'lstm[_0-9]*': activation='relu'"),
        (L.LSTM(2, recurrent_activation="hard_sigmoid"), "recurrent_activation='hard_sigmoid'"),
        (L.SimpleRNN(2, activation="sigmoid"), "'simple_rnn[_0-9]*': activation='sigmoid'"),
        (L.LSTM(2, go_backwards=True), "'lstm[_0-9]*': go_backwards=True"),
        (L.Bidirectional(L.LSTM(2), merge_mode="sum"), "merge_mode='sum'"),
        (L.Conv1D(2, 3), "'conv1d[_0-9]*': Conv1D layers are not supported"),
    ]
    out = [(n, keras_bytes(seq(layer), [".keras"])[0], n) for layer, n in cases]
    stateful = keras.Sequential([keras.Input(batch_shape=(2, 5, 3)), L.LSTM(2, stateful=True)])
    masked = seq(L.Embedding(5, 2, mask_zero=True), L.LSTM(2), ints=True)
    return out + [
        ("stateful", keras_bytes(stateful, [".keras"])[0], "'lstm[_0-9]*': stateful=True"),
        ("mask", keras_bytes(masked, [".keras"])[0], "'embedding[_0-9]*': mask_zero=True"),
        ("branch", branching(), "'gru[_0-9]*' does not simply read the layer before it"),
    ]


def test_hostile_and_unsupported_files():
    cases = hostile() + unsupported()
    assert len(cases) == 26
    for name, data, pattern in cases:
        with pytest.raises(ValueError, match=pattern) as err:
            lstm_viz.load_model(data)
        assert err.type is ValueError, name  # one plain message, never a crash of another kind


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_damaged_keras_files_are_refused_or_loaded(data):
    """Flipped bytes or a cut anywhere: a model that loads, or a ValueError, nothing else."""
    raw = bytearray(base()[data.draw(st.integers(0, 1))])
    for _ in range(data.draw(st.integers(1, 4))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    raw = raw[: data.draw(st.integers(1, len(raw)))]
    try:
        model = lstm_viz.load_model(bytes(raw))
    except ValueError:
        return
    model(np.zeros((1, 3, 3), "float32"))  # what loads, runs


def test_readme_keras_example_prints_what_it_shows(tmp_path, monkeypatch):
    from test_own_models import readme_example, run_example

    code, shown = readme_example(1)
    keras.backend.clear_session()  # layer names count from 0 again (lstm, not lstm_17)
    printed = run_example(code, tmp_path, monkeypatch)
    assert printed == shown.replace("Keras 3.15.1", f"Keras {keras.__version__}")
