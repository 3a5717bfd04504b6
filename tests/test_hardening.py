"""Bad input, hostile files and out-of-range parameters: each gets a ValueError with a fix-it hint
from the API, and in the app a readable error box (never an exception) after which a good input
still draws the heatmaps.

The app cases run in AppTest; the same inputs go through the API in the parametrized tests.
"""

from __future__ import annotations

import io
import json
import os
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("streamlit.testing.v1")
from conftest import errors, heatmap_steps, run  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

import lstm_viz  # noqa: E402
from lstm_viz import analysis, inputs  # noqa: E402
from lstm_viz.limits import MAX_COLUMNS, MAX_HIDDEN, MAX_STEPS, MAX_UPLOAD_BYTES  # noqa: E402
from lstm_viz.models import ModelConfig, SequenceModel, save_checkpoint  # noqa: E402
from lstm_viz.ui import loaders  # noqa: E402

APP = str(Path(__file__).resolve().parents[1] / "app.py")
DEMO = loaders.DEMO
SHIPPED = set(loaders.model_names())
needs_shipped = pytest.mark.skipif(
    not {"cue_lstm", "chars_lstm", "forecast_co2_lstm"} <= SHIPPED,
    reason="needs the shipped cue, chars and forecast models",
)
MB = 2**20


# --- helpers ------------------------------------------------------------------------------------


def assert_refused(at: AppTest, pattern: str, case: str) -> None:
    """No exception, one error box whose text matches `pattern`, no heatmaps of a stale input."""
    assert not at.exception, (case, [e.value for e in at.exception])
    found = errors(at)
    assert found and any(re.search(pattern, e, re.I) for e in found), (case, found)
    for e in at.error:  # user text reaches the page as escaped Markdown only
        assert not re.search(r"(?<!\\)<[a-z/]", e.value, re.I), (case, e.value)


def refused(fn, pattern: str, case: str) -> None:
    """fn() raises a ValueError whose message matches `pattern` (the case named if not)."""
    try:
        fn()
    except ValueError as err:
        assert re.search(pattern, str(err), re.I | re.S), (case, str(err))
    else:
        pytest.fail(f"{case}: accepted, expected a ValueError matching {pattern!r}")


def state_dict_bytes(state) -> bytes:
    buf = io.BytesIO()
    torch.save(state, buf)
    return buf.getvalue()


class _Boom:
    """Unpickling this would run `touch marker`: what a malicious checkpoint does."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


# --- the bad inputs -----------------------------------------------------------------------------

# (model, text, what the message must say); every text below is refused
BAD_TEXT = [
    ("cue_lstm", "", r"text is empty"),
    ("cue_lstm", "   \n\t  ", r"text is empty"),
    ("cue_lstm", '"( )" «»', r"no words; type a sentence, e.g. 'as Martha"),
    ("chars_lstm", "anna said 42", r"never seen '2', '4'.*lowercase"),
    ("cue_lstm", "a " * (MAX_STEPS + 1), rf"{MAX_STEPS + 1} steps.*at most {MAX_STEPS}"),
    ("chars_lstm", "a" * (MAX_STEPS + 1), rf"{MAX_STEPS + 1} steps.*at most {MAX_STEPS}"),
    (DEMO, "1 " * (MAX_STEPS + 1), rf"{MAX_STEPS + 1} steps.*at most {MAX_STEPS}"),
    ("chars_lstm", "مرحبا 😀", r"never seen .*'😀'"),
    (DEMO, "1 2 😀", r"'😀' is not a number"),
    ("chars_lstm", "<script>alert(1)</script>", r"never seen .*'<'"),
    (DEMO, "<b>1</b>", r"'<b>1</b>' is not a number"),
    (DEMO, "1 nan 2", r"NaN or inf"),
    (DEMO, "1e39", r"too large for the model's float32"),
]
GOOD_TEXT = {"cue_lstm": "Mary proposed the bill . She", "chars_lstm": "anna said", DEMO: "0 1"}


def _png_like() -> bytes:
    rng = np.random.default_rng(0)
    return b"\x89PNG\r\n\x1a\n" + rng.integers(0, 256, 3000, dtype=np.uint8).tobytes()


# (name, file bytes, what the message must say) for a numeric model that reads one value per step
BAD_CSV = [
    ("empty.csv", b"", r"CSV file is empty"),
    ("blank.csv", b"\n \n\n", r"CSV file is empty"),
    ("header.csv", b"time,value\n", r"header but no rows"),
    ("words.csv", b"name,town\nann,boston\nbob,austin\n", r"no numeric column"),
    ("mixed.csv", b"value\n1\n2\nabc\n4\n", r"rows 4 hold .*text"),
    ("nan_inf.csv", b"value\n1\nnan\ninf\n2\n", r"rows 3, 4 hold .*NaN or inf"),
    ("latin1.csv", b"value\n1.5\n\xff\xfe2\n3\n", r"rows 3 hold"),
    ("image.csv", _png_like(), r"not a text CSV file"),
    ("utf16.csv", "value\n1\n2\n".encode("utf-16"), r"not a text CSV.*UTF-8"),
    ("quote.csv", b'"value\n1\n2\n', r"could not read the CSV"),
    ("big.csv", b"value\n" + b"0.123456789\n" * (9 * MB // 12), r"9\.0 MB; the limit is 8 MB"),
    ("rows.csv", b"value\n" + b"1\n" * 2_000_000, rf"more than {MAX_STEPS} rows"),
    ("wide.csv", (",".join(f"c{i}" for i in range(5000)) + "\n").encode() * 2, r"at most 1000"),
]
GOOD_CSV = b"time,value\n" + b"".join(f"{t},{np.sin(t / 4):.4f}\n".encode() for t in range(40))


def _lstm_state(**kw) -> dict:
    torch.manual_seed(0)
    return {k: v.clone() for k, v in torch.nn.LSTM(3, 8, **kw).state_dict().items()}


def _zip_bomb() -> bytes:
    """A torch.save archive rewritten with deflate: ~40 MB of zeros in a ~40 KB file."""
    plain = state_dict_bytes({"weight_ih_l0": torch.zeros(40 * MB // 4 // 4, 4)})
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(plain)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info.filename))
    return out.getvalue()


def bad_model_files(tmp: Path) -> list[tuple[str, bytes, str, str]]:
    """(name, bytes, core type picked, what the message must say)."""
    good = state_dict_bytes(_lstm_state())
    wrong_shape = _lstm_state()
    wrong_shape["bias_ih_l0"] = torch.zeros(16)
    missing = _lstm_state()
    del missing["bias_hh_l0"]
    no_core = {"fc.weight": torch.zeros(2, 2)}
    nan = _lstm_state()
    nan["weight_hh_l0"][3, 1] = float("nan")
    torch.manual_seed(0)
    gru = torch.nn.GRU(3, 8).state_dict()
    stride0 = {"weight_ih_l0": torch.zeros(1).expand(32, 10**8), "weight_hh_l0": torch.zeros(32, 8)}
    ints = {k: v.to(torch.int64) for k, v in _lstm_state().items()}
    gap = _lstm_state()
    gap["weight_ih_l9"] = gap["weight_ih_l0"]
    save_checkpoint(SequenceModel(ModelConfig(core="gru", hidden_size=4)), tmp / "gru.pt")
    blob = torch.load(tmp / "gru.pt", weights_only=True)
    blob["config_json"] = json.dumps({**json.loads(blob["config_json"]), "core": "lstm"})
    huge = torch.load(tmp / "gru.pt", weights_only=True)  # a config claiming 10**5 units
    huge["config_json"] = json.dumps({**json.loads(huge["config_json"]), "hidden_size": 10**5})
    far = torch.load(tmp / "gru.pt", weights_only=True)  # issue 10: a forecast horizon of 10**9
    extra = {"scaling": {"difference": False, "mean": 0, "std": 1}, "horizon": 10**9}
    far["config_json"] = json.dumps({**json.loads(far["config_json"]), "extra": extra})
    flat = {**_lstm_state(), "weight_hh_l0": torch.zeros(32)}
    return [
        ("notes.pt", b"this is a text file, not weights", "auto", r"could not read this file"),
        ("cut.pt", good[: len(good) // 2], "auto", r"damaged archive"),
        ("shape.pt", state_dict_bytes(wrong_shape), "auto", r"size mismatch for bias_ih_l0"),
        ("missing.pt", state_dict_bytes(missing), "auto", r"Missing key.*bias_hh_l0"),
        ("nocore.pt", state_dict_bytes(no_core), "auto", r"no weight_ih_l0 / weight_hh_l0"),
        ("nan.pt", state_dict_bytes(nan), "auto", r"NaN or inf"),
        ("gru.pt", state_dict_bytes(gru), "lstm", r"an LSTM .* needs 32 .*looks like a GRU"),
        ("ckpt.pt", state_dict_bytes(blob), "auto", r"shape .* different models"),
        ("huge.pt", state_dict_bytes(huge), "auto", r"hidden size is 100000; .*1\.\.1024 units"),
        ("stride0.pt", state_dict_bytes(stride0), "auto", r"claims more values than the file"),
        ("ints.pt", state_dict_bytes(ints), "auto", r"int64 values.*float weights only"),
        ("gap.pt", state_dict_bytes(gap), "auto", r"layers \[0, 9\]"),
        ("bomb.pt", _zip_bomb(), "auto", r"unpacks to 40\.0 MB; the limit is 32 MB"),
        ("big.pt", b"PK" + bytes(MAX_UPLOAD_BYTES), "auto", r"8\.0 MB; the limit is 8 MB"),
        ("list.pt", state_dict_bytes([torch.zeros(2)]), "auto", r"holds no state_dict"),
        ("far.pt", state_dict_bytes(far), "auto", r"horizon.* is 1000000000; .*1\.\.500"),
        ("flat.pt", state_dict_bytes(flat), "auto", r"weight_hh_l0 is 1-D"),
        ("keys.pt", state_dict_bytes({**_lstm_state(), 0: torch.zeros(1)}), "auto", r"not names"),
    ]


def good_model_file() -> bytes:
    torch.manual_seed(3)
    return state_dict_bytes(torch.nn.LSTM(1, 6).state_dict())


# --- the API ------------------------------------------------------------------------------------


@needs_shipped
@pytest.mark.parametrize(("name", "text", "pattern"), BAD_TEXT, ids=range(len(BAD_TEXT)))
def test_bad_text_api(name, text, pattern):
    with pytest.raises(ValueError, match=re.compile(pattern, re.I | re.S)):
        inputs.text_input(loaders.load_model(name), text)


@needs_shipped
def test_text_with_tags_and_emoji_keeps_its_labels_verbatim():
    """Text the model can read keeps every character in its step labels (no escaping, no loss):
    the figures and the page escape them when they draw them."""
    user = inputs.text_input(loaders.load_model("chars_lstm"), 'he said "hi" (now)')
    assert "".join(user.labels).replace("␣", " ") == 'he said "hi" (now)'
    # the cue model reads words it does not know (any script, tags) as filler, labelled as typed
    cue_model = loaders.load_model("cue_lstm")
    user = inputs.text_input(cue_model, "שלום Mary")
    assert user.labels == ["שלום", "Mary"] and user.unknown == [0] and user.note is None
    user = inputs.text_input(cue_model, '<img src=x onerror="document.title=1">')
    assert user.labels[:3] == ["<", "img", "src"] and "." in user.labels  # '.' ends a sentence
    assert user.unknown == [k for k, t in enumerate(user.labels) if t not in ("document", ".")]


@pytest.mark.parametrize(("name", "data", "pattern"), BAD_CSV, ids=[c[0] for c in BAD_CSV])
def test_bad_csv_api(name, data, pattern):
    model = loaders.load_model(DEMO)
    with pytest.raises(ValueError, match=re.compile(pattern, re.I)):
        columns = inputs.read_csv(data)
        inputs.numbers_input(model, inputs.column_values(columns, list(columns)[:1]))


@needs_shipped
def test_csv_single_row_and_legacy_encodings():
    one = inputs.read_csv(b"value\n0.5\n")
    assert inputs.numbers_input(loaders.load_model(DEMO), one["value"]).x.shape == (1, 1)
    with pytest.raises(ValueError, match="at least two values"):  # it reads changes
        inputs.numbers_input(loaders.load_model("forecast_co2_lstm"), one["value"])
    latin = inputs.read_csv("température\n1\n2\n".encode("latin-1"))
    assert list(latin) == ["température"]
    euro = inputs.read_csv(b"a;b\n1,5;2\n3,25;4\n")  # semicolons and decimal commas
    np.testing.assert_array_equal(euro["a"], [1.5, 3.25])


def test_bad_model_files_api(tmp_path):
    marker = tmp_path / "pwned"
    evil = state_dict_bytes({"weight_ih_l0": _Boom(marker)})
    for name, data, kind, pattern in [
        *bad_model_files(tmp_path),
        ("evil.pt", evil, "auto", r"could not read this file"),
    ]:
        refused(lambda: inputs.load_model_file(data, kind), pattern, name)  # noqa: B023
    assert not marker.exists(), "the pickle ran code"
    assert isinstance(inputs.load_model_file(good_model_file()), torch.nn.LSTM)


def test_limits_are_stated_in_their_messages():
    with pytest.raises(ValueError, match=f"choose 1..{MAX_STEPS}"):
        inputs.generated_series(MAX_STEPS + 1)
    with pytest.raises(ValueError, match="the limit is 8 MB"):
        inputs.read_csv(b"v\n" + b"1\n" * (MAX_UPLOAD_BYTES // 2 + 1))
    state = {  # 1025 units (17 MB as empty tensors): over the limit before anything is built
        "weight_ih_l0": torch.empty(4 * (MAX_HIDDEN + 1), 1),
        "weight_hh_l0": torch.empty(4 * (MAX_HIDDEN + 1), MAX_HIDDEN + 1),
    }
    limit = f"hidden size is {MAX_HIDDEN + 1}; the app takes 1..{MAX_HIDDEN} units"
    with pytest.raises(ValueError, match=limit):
        inputs.core_from_state_dict(state)
    with pytest.raises(ValueError, match=f"at most {MAX_COLUMNS}"):
        inputs.read_csv((",".join(["1"] * (MAX_COLUMNS + 1)) + "\n").encode() * 2)


@needs_shipped
def test_out_of_range_parameters_api():
    model = loaders.load_model("cue_lstm")
    ids = np.arange(12) % len(model.config.vocab)
    tr, _ = model.trace(ids)
    T, H = tr.steps, tr.units("cell")
    cases = [
        (lambda: tr.gate("cell", layer=1), "layer 1 out of range"),
        (lambda: tr.gate("cell", layer=-1), "layer -1 out of range"),
        (lambda: tr.gate("cell", direction=1), "not bidirectional"),
        (lambda: tr.gate("nope"), "unknown name"),
        (lambda: analysis.retention(tr, 0, T), f"step {T} out of range"),
        (lambda: analysis.retention(tr, 0, -1), "step -1 out of range"),
        (lambda: analysis.saliency(model, ids, T), f"step {T} out of range"),
        (lambda: analysis.saturation(tr, "forget", 2), "layer 2 out of range"),
        (lambda: model.trace(ids, [lstm_viz.Clamp("forget", 0.0, units=[H])]), "units"),
        (lambda: model.trace(ids, [lstm_viz.Clamp("forget", 0.0, steps=[T])]), "steps"),
        (lambda: model.trace(ids, [lstm_viz.Clamp("forget", 0.0, layer=1)]), "layer 1"),
        (lambda: model.trace(np.array([0, 10**6])), "token ids must be in"),
    ]
    for fn, pattern in cases:
        with pytest.raises(ValueError, match=pattern):
            fn()


@pytest.mark.parametrize(
    ("name", "value", "pattern"),
    [
        ("forget", 1.5, r"sigmoid gate.*0\.\.1.*use 0 to shut it or 1 to open it"),
        ("input", -0.2, r"sigmoid gate.*0\.\.1"),
        ("output", float("nan"), r"finite"),
        ("candidate", 2.0, r"tanh output in -1\.\.1"),
        ("forget", "0.5", r"must be a number"),
    ],
)
def test_clamp_values_outside_their_range_are_refused_with_the_reason(name, value, pattern):
    with pytest.raises(ValueError, match=pattern):
        lstm_viz.Clamp(name, value)


@needs_shipped
@pytest.mark.parametrize(
    "call",
    [
        "gate_layer_half",
        "retention_step_str",
        "saliency_step_float",
        "clamp_steps_int",
        "clamp_units_half",
    ],
)
def test_non_integer_parameters_are_refused(call):
    model = loaders.load_model("cue_lstm")
    ids = np.arange(6)
    tr, _ = model.trace(ids)
    fn = {
        "gate_layer_half": lambda: tr.gate("cell", 0.5),
        "retention_step_str": lambda: analysis.retention(tr, 0, "2"),
        "saliency_step_float": lambda: analysis.saliency(model, ids, 2.5),
        "clamp_steps_int": lambda: lstm_viz.Clamp("forget", 0.0, steps=3),
        "clamp_units_half": lambda: lstm_viz.Clamp("forget", 0.0, units=[0.5]),
    }[call]
    with pytest.raises(ValueError):
        fn()


def test_numpy_numbers_are_fine_clamp_values_and_indices():
    c = lstm_viz.Clamp("forget", np.float32(0.5), units=np.array([1, 2]), steps=np.arange(3))
    assert c.value == 0.5 and c.units == (1, 2) and c.steps == (0, 1, 2)


# --- the app ------------------------------------------------------------------------------------


@needs_shipped
def test_bad_text_in_the_app_then_a_good_one(app):
    apps: dict[str, AppTest] = {}
    for name, text, pattern in BAD_TEXT:
        if name not in apps:
            apps[name] = app(model=name, input="text")
        at = apps[name]
        at.text_area(key="lv_text").input(text)
        at.run()
        assert_refused(at, pattern, f"{name}: {text[:30]!r}")
        at.text_area(key="lv_text").input(GOOD_TEXT[name])
        run(at)
        assert not at.error, errors(at)
        assert heatmap_steps(at) >= 2


def test_bad_csv_in_the_app_then_a_good_one(app):
    at = app(model=DEMO, input="csv")
    for name, data, pattern in BAD_CSV:
        at.file_uploader(key="lv_csv").set_value((name, data, "text/csv"))
        at.run()
        assert_refused(at, pattern, name)
        at.file_uploader(key="lv_csv").set_value(("good.csv", GOOD_CSV, "text/csv"))
        run(at)
        assert not at.error, (name, errors(at))
        assert heatmap_steps(at) == 40


def test_bad_model_files_in_the_app_then_a_good_one(app, tmp_path):
    """Every bad file is refused in the app with the message lstm_viz.load_model gives for it
    (the app loads uploads through it), and a good file afterwards draws the heatmaps."""
    marker = tmp_path / "pwned"
    evil = state_dict_bytes({"weight_ih_l0": _Boom(marker), "weight_hh_l0": torch.zeros(4, 1)})
    at = app(model="upload", input="generated", length="30")
    good = good_model_file()
    cases = [(n, d) for n, d, kind, _ in bad_model_files(tmp_path) if kind == "auto"]
    for name, data in [*cases, ("evil.pt", evil)]:
        with pytest.raises(ValueError) as said:
            lstm_viz.load_model(data)
        at.file_uploader(key="lv_model_file").set_value((name, data, "application/octet-stream"))
        at.run()
        assert_refused(at, re.escape(str(said.value)[:60]), name)
        assert not marker.exists(), "the pickle ran code"
        at.file_uploader(key="lv_model_file").set_value(("good.pt", good, "x"))
        run(at)
        assert not at.error, (name, errors(at))
        assert heatmap_steps(at) == 30


@pytest.mark.parametrize(
    ("state", "checks"),
    [
        ({"lv_step": -5}, {"lv_step": 0}),
        ({"lv_step": 10**9}, {"lv_step": 199}),  # 200 steps by default
        ({"lv_step": "abc"}, {"lv_step": 0}),
        ({"lv_step": 2.5}, {"lv_step": 2}),
        ({"lv_top_k": 0}, {"lv_top_k": 64}),
        ({"lv_top_k": 10**6}, {"lv_top_k": 64}),
        ({"lv_pinned": [999, 3, -1]}, {"lv_pinned": [3]}),
        ({"lv_layer": 5, "lv_direction": 3}, {"lv_layer": 0, "lv_direction": 0}),
        ({"lv_unit": 10**6}, {}),
        ({"lv_window_start": -7}, {}),
        ({"lv_gen_length": 10**7}, {"lv_gen_length": MAX_STEPS}),
        ({"lv_gen_length": -3}, {"lv_gen_length": 1}),
        ({"lv_gen_noise": 100.0}, {"lv_gen_noise": 0.1}),
    ],
    ids=lambda v: str(v)[:40],
)
def test_out_of_range_session_state_is_brought_into_range(app, state, checks):
    at = app(state=state, model=DEMO, input="generated")
    assert not at.error, errors(at)
    heatmap_steps(at)
    for key, want in checks.items():
        assert at.session_state[key] == want, (key, at.session_state[key])


def test_out_of_range_query_string_is_ignored(app):
    for query in (
        {"length": "99999999", "seed": "-1"},
        {"model": "../../etc/passwd", "input": "<script>"},
        {"length": "1e9", "seed": "abc"},
    ):
        at = app(**query)
        assert not at.error, (query, errors(at))
        heatmap_steps(at)


@needs_shipped
def test_a_smaller_model_after_pins_and_unit_counts_on_a_larger_one(app):
    """Units pinned and shown on the 64-unit demo do not break the 32-unit cue model."""
    at = app(model=DEMO, input="generated", length="50")
    at.slider(key="lv_top_k").set_value(60)
    at.multiselect(key="lv_pinned").set_value([50, 2])
    run(at)
    at.selectbox(key="lv_model").set_value("cue_lstm")
    run(at)
    assert at.session_state["lv_pinned"] == [2]
    assert heatmap_steps(at) > 1


@needs_shipped
def test_clamp_outside_0_1_in_the_app_and_the_shared_model_is_never_mutated(app):
    before = {k: v.clone() for k, v in loaders.load_model("cue_lstm").state_dict().items()}
    at = app(model="cue_lstm")
    if "Intervene" not in at.segmented_control(key="lv_view").options:
        pytest.skip("no intervene view in this version of the app")
    at.segmented_control(key="lv_view").set_value("Intervene")
    run(at)
    at.selectbox(key="lv_iv_gate").set_value("forget")
    at.number_input(key="lv_iv_value").set_value(1.5)
    run(at)
    assert_refused(at, r"sigmoid gate.*0\.\.1", "forget = 1.5")
    at.number_input(key="lv_iv_value").set_value(0.0)
    run(at)
    assert not at.error, errors(at)
    at.button(key="lv_iv_apply").click()
    run(at)
    assert not at.error, errors(at)
    after = loaders.load_model("cue_lstm").state_dict()
    for key, value in before.items():
        assert torch.equal(value, after[key]), key


# --- server settings and static checks ----------------------------------------------------------


def test_server_config_is_offline_safe_and_matches_the_limits():
    import tomllib

    root = Path(APP).parent
    config = tomllib.loads((root / ".streamlit" / "config.toml").read_text())
    assert config["browser"]["gatherUsageStats"] is False  # offline classrooms
    assert config["server"]["enableXsrfProtection"] is True
    assert config["server"]["headless"] is True
    assert config["server"]["maxUploadSize"] * MB == MAX_UPLOAD_BYTES  # one limit, two places
    assert config["client"]["showErrorDetails"] in ("none", False)  # no stack traces to users


def test_no_raw_html_from_python_code():
    """unsafe_allow_html never appears; st.html only carries the app's own CSS (no user text),
    or the maps' preview, whose every text goes through `figures.preview.label` (tested in
    tests/test_preview.py: hostile labels come out as text)."""
    root = Path(APP).parent
    for path in [Path(APP), *sorted((root / "lstm_viz").rglob("*.py"))]:
        text = path.read_text()
        assert "unsafe_allow_html" not in text, path
        for line in (ln for ln in text.splitlines() if "st.html(" in ln):
            allowed = r"st\.html\(([A-Z_]*CSS|marker_css\(|_swap_css\(key\) \+ preview_html\()"
            assert re.search(allowed, line), (path, line)
