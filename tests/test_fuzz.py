"""Fuzzing the parsers a user reaches (typed text, numbers, CSV files, the tasks' tokenizers, an
uploaded model file) with hypothesis: each returns a well-formed result or raises ValueError,
never anything else.

Fixed example counts and derandomize=True: the same inputs on every run, a few seconds in all.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import asdict

import numpy as np
import pytest
import torch

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, event, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import lstm_viz  # noqa: E402
from lstm_viz import export, inputs  # noqa: E402
from lstm_viz.limits import MAX_STEPS  # noqa: E402
from lstm_viz.models import (  # noqa: E402
    ModelConfig,
    SequenceModel,
    checkpoint_model,
    load_shipped,
    shipped_models,
)
from lstm_viz.tasks import chars, cue  # noqa: E402
from lstm_viz.validate import check_model  # noqa: E402

FUZZ = settings(
    max_examples=150,
    derandomize=True,
    deadline=None,
    database=None,  # nothing written to .hypothesis/: the same examples every run anyway
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def _models() -> dict[str, SequenceModel]:
    torch.manual_seed(0)
    out = {"demo": SequenceModel(ModelConfig(input_size=1, hidden_size=4)).eval()}
    out["two_features"] = SequenceModel(ModelConfig(input_size=2, hidden_size=4)).eval()
    for name in ("cue_lstm", "chars_lstm", "forecast_co2_lstm"):
        if name in shipped_models():
            out[name] = load_shipped(name)
    return out


MODELS = _models()

# text with what users type and what breaks parsers: words of the tasks' vocabularies, digits,
# signs, separators, quotes, tags, right-to-left letters, emoji, control and zero-width characters
ATOMS = st.sampled_from(
    [*cue.VOCAB[:40], *chars.VOCAB, "Mary", "She", "1", "-2.5", "1e400", "nan", "inf", "0x1f"]
    + [",", ";", "\t", "\n", "\r", " ", '"', "'", "<script>", "</b>", "&amp;", "\\", "\x00"]
    + ["مرحبا", "שלום", "😀", "👩‍🔬", "\u200f", "\u202e", "\ufeff", "É", "ß", "\x1b[31m"]
)
TEXT = st.one_of(
    st.text(max_size=200),
    st.lists(ATOMS, max_size=60).map("".join),
    st.lists(ATOMS, max_size=60).map(" ".join),
)


def _check_user_input(user: inputs.UserInput) -> None:
    assert isinstance(user, inputs.UserInput)
    assert 1 <= len(user.x) <= MAX_STEPS
    assert len(user.labels) == len(user.x)
    assert all(isinstance(s, str) for s in user.labels)
    if user.x.dtype.kind == "f":
        assert user.x.dtype == np.float32 and np.isfinite(user.x).all()
    else:
        assert user.x.dtype == np.int64 and (user.x >= 0).all()


@FUZZ
@given(text=TEXT, name=st.sampled_from(sorted(MODELS)))
def test_text_input_gives_an_input_or_a_value_error(text, name):
    model = MODELS[name]
    try:
        user = inputs.text_input(model, text)
    except ValueError as err:
        assert str(err)
        event("refused")
        return
    event("accepted")  # the counts show with --hypothesis-show-statistics
    _check_user_input(user)
    if model.is_token_model:
        assert user.x.max() < len(model.config.vocab)


@FUZZ
@given(text=TEXT)
def test_parse_numbers_gives_finite_numbers_or_a_value_error(text):
    try:
        values = inputs.parse_numbers(text)
    except ValueError:
        return
    assert values.dtype == np.float64 and 1 <= len(values) <= MAX_STEPS
    assert np.isfinite(values).all()


@FUZZ
@given(text=TEXT)
def test_task_tokenizers_give_known_ids_or_a_value_error(text):
    try:
        ids = cue.encode(cue.tokenize(text))
        assert ((0 <= ids) & (ids < len(cue.VOCAB))).all()
    except ValueError:
        pass
    try:
        ids = chars.encode_text(text)
        assert len(ids) == len(text) and ((0 <= ids) & (ids < len(chars.VOCAB))).all()
    except ValueError:
        pass


# CSV: a header and rows of cells, mostly numbers, some words, blanks, NaN / inf, odd formats
NUMBER = st.one_of(
    st.floats(-1e6, 1e6).map(lambda v: f"{v:.6g}"),
    st.integers(-1000, 1000).map(str),
)
ODD = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**30), 10**30).map(str),
    st.sampled_from(["", " ", "nan", "NaN", "inf", "-inf", "NA", "null", "1,5", "1.5.2", "x"]),
    st.text(max_size=8),
)
SEP = st.sampled_from([",", ";", "\t", "|", ", "])


@st.composite
def csv_files(draw) -> bytes:
    sep = draw(SEP)
    width = draw(st.integers(1, 4))
    header = [f"c{k}" for k in range(width)]
    if draw(st.booleans()):
        header = draw(st.lists(st.text(max_size=6), min_size=width, max_size=width))
    cell = st.one_of(NUMBER, NUMBER, NUMBER, ODD) if draw(st.booleans()) else NUMBER
    ragged = draw(st.booleans())
    row = st.lists(cell, min_size=1 if ragged else width, max_size=width + ragged)
    rows = draw(st.lists(row, min_size=1, max_size=30))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = newline.join(sep.join(r) for r in [header, *rows])
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "latin-1", "utf-16"]))
    return text.encode(encoding, errors="replace")


NUMERIC = sorted(n for n, m in MODELS.items() if not m.is_token_model)  # the app's CSV choice


@FUZZ
@given(data=st.one_of(csv_files(), st.binary(max_size=400)), name=st.sampled_from(NUMERIC))
def test_csv_path_gives_an_input_or_a_value_error(data, name):
    """read_csv -> column_values -> numbers_input, as the sidebar does for a numeric model."""
    model = MODELS[name]
    try:
        columns = inputs.read_csv(data)
        assert columns and all(c.dtype == np.float64 for c in columns.values())
        need = inputs.input_size(model)
        user = inputs.numbers_input(model, inputs.column_values(columns, list(columns)[:need]))
    except ValueError as err:
        assert str(err)
        event("refused: " + str(err)[:30])
        return
    event("accepted")
    _check_user_input(user)


@FUZZ
@given(
    length=st.integers(-5, MAX_STEPS + 5),
    seed=st.integers(-5, 2**40),
    noise=st.floats(allow_nan=True, allow_infinity=True),
)
def test_generated_series_gives_a_series_or_a_value_error(length, seed, noise):
    try:
        values = inputs.generated_series(length, seed, noise)
    except ValueError:
        return
    assert values.shape == (length,) and np.isfinite(values).all()


def _saved(state) -> bytes:
    buf = io.BytesIO()
    torch.save(state, buf)
    return buf.getvalue()


torch.manual_seed(0)
GOOD_FILE = _saved(torch.nn.LSTM(2, 3).state_dict())


@settings(FUZZ, max_examples=80)
@given(
    flips=st.lists(st.tuples(st.integers(0, len(GOOD_FILE) - 1), st.integers(0, 255)), max_size=6),
    cut=st.just(len(GOOD_FILE)) | st.integers(1, len(GOOD_FILE)),
)
def test_a_damaged_model_file_gives_a_module_or_a_value_error(flips, cut):
    """Bytes of a good state_dict file overwritten and cut short, as a bad download would be."""
    data = bytearray(GOOD_FILE[:cut])
    for at, byte in flips:
        if at < len(data):
            data[at] = byte
    try:
        module = inputs.load_model_file(bytes(data))
    except ValueError as err:
        assert str(err)
        event("refused")
        return
    event("accepted")
    assert isinstance(module, torch.nn.LSTM | torch.nn.GRU | torch.nn.RNN)
    assert all(torch.isfinite(p).all() for p in module.parameters())


# --- issue 10: crafted model descriptions, state_dicts, clamps, CSV headers, exports, traces ---

JSON_LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6),
)
JSON = st.recursive(
    JSON_LEAF,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=12,
)
EXTRA_KEYS = st.sampled_from(
    ["variant", "scaling", "season", "horizon", "test_start", "val_start", "synthetic", "T"]
    + ["cue_answer", "train_gaps", "unit", "features"]
)
_FORECAST = {
    "variant": "synthetic",
    "scaling": {"difference": True, "mean": 0.0, "std": 1.0},
    "season": 24,
    "horizon": 24,
    "test_start": 480,
}


@settings(FUZZ, max_examples=120)
@given(
    edits=st.just({}) | st.dictionaries(EXTRA_KEYS, JSON | st.integers(1, 600), max_size=3),
    sizes=st.just({})
    | st.dictionaries(
        st.sampled_from(["hidden_size", "num_layers", "output_size", "input_size"]),
        st.one_of(st.integers(-2, 3), st.integers(10**3, 10**7), JSON_LEAF),
        max_size=2,
    ),
    task=st.sampled_from(["forecast", "cue", "", "x"]),
)
def test_a_crafted_checkpoint_config_gives_a_model_or_a_value_error(edits, sizes, task):
    """Random JSON in every extra field the views read, and random sizes: checkpoint_model
    (what load_checkpoint and load_model_file call) returns a model or a ValueError."""
    config = asdict(ModelConfig(hidden_size=2, task=task, extra={**_FORECAST, **edits}))
    torch.manual_seed(0)
    state = SequenceModel(ModelConfig(hidden_size=2)).state_dict()
    try:
        model = checkpoint_model(
            {"config_json": json.dumps({**config, **sizes}), "state_dict": state}
        )
    except ValueError as err:
        assert str(err)
        event("refused")
        return
    event("accepted")
    check_model(model)  # what loaded is what validates
    extra = model.config.extra
    if model.config.task == "forecast":
        assert 1 <= extra["horizon"] <= 500 and 1 <= extra["season"] <= extra["test_start"]


TENSOR = st.tuples(st.integers(0, 3), st.integers(0, 9)).map(
    lambda dims: torch.zeros((dims[1],) * dims[0])
)
torch.manual_seed(0)
GOOD_STATE = {k: v.clone() for k, v in torch.nn.LSTM(2, 3, num_layers=2).state_dict().items()}
STATE_KEYS = st.one_of(
    st.sampled_from(sorted(GOOD_STATE)),
    st.sampled_from(["weight_hr_l0", "weight_ih_l5", "core.weight_ih_l0", "x"]),
    st.integers(-2, 2),
)


@settings(FUZZ, max_examples=120)
@given(
    drop=st.just([]) | st.lists(st.sampled_from(sorted(GOOD_STATE)), max_size=2),
    put=st.just({}) | st.dictionaries(STATE_KEYS, TENSOR, max_size=2),
    kind=st.sampled_from(["auto", "auto", "lstm", "gru", "rnn"]),
)
def test_a_crafted_state_dict_gives_a_core_or_a_value_error(drop, put, kind):
    """A good state_dict with keys dropped, tensors of any rank put in, odd keys added."""
    state = {k: v for k, v in GOOD_STATE.items() if k not in drop} | put
    try:
        module = inputs.core_from_state_dict(state, kind)
    except ValueError as err:
        assert str(err)
        event("refused")
        return
    event("accepted")
    assert isinstance(module, torch.nn.RNNBase)
    check_model(module)


RANGES = st.builds(
    range,
    st.integers(-(10**13), 10**13),
    st.integers(-(10**13), 10**13),
    st.integers(1, 10**12) | st.integers(-(10**12), -1),
)


@settings(FUZZ, max_examples=150)
@given(
    steps=st.none() | RANGES | st.builds(range, st.integers(-2, 12), st.integers(-2, 12)),
    units=st.none() | st.lists(st.integers(-2, 4), max_size=4),
    name=st.sampled_from(["forget", "cell", "hidden", "candidate", "new", "nope"]),
    value=st.floats(allow_nan=True, allow_infinity=True) | st.integers(-(10**40), 10**40),
)
def test_clamp_arguments_give_a_trace_or_a_value_error(steps, units, name, value):
    torch.manual_seed(0)
    net = torch.nn.LSTM(2, 3)
    x = torch.randn(10, 2)
    try:
        clamp = lstm_viz.Clamp(name, value, steps=steps, units=units)
        tr = lstm_viz.trace(net, x, interventions=[clamp])
    except ValueError as err:
        assert str(err)
        event("refused")
        return
    event("accepted")
    assert np.isfinite(tr.output).all()
    want = np.zeros((10, 3), bool)
    rows = range(10) if steps is None else steps
    want[np.ix_(list(rows), list(range(3) if units is None else units))] = True
    np.testing.assert_array_equal(tr.clamped(name), want)  # a range clamps its steps exactly


@FUZZ
@given(
    rows=st.lists(st.lists(st.one_of(NUMBER, ODD), min_size=3, max_size=3), min_size=1, max_size=20)
)
def test_every_csv_column_is_kept_or_named_with_a_reason(rows):
    """Nothing disappears in silence: each header is a numeric column or a dropped one."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["a", "b", "c"])
    writer.writerows(rows)
    try:
        table = inputs.read_csv_table(out.getvalue().encode())
    except ValueError as err:
        assert str(err)
        event("refused")
        return
    event("accepted")
    assert set(table.columns) | set(table.dropped) == {"a", "b", "c"}
    assert not set(table.columns) & set(table.dropped)
    assert all(isinstance(why, str) and why for why in table.dropped.values())
    assert set(table.index_like) <= set(table.columns)


@settings(FUZZ, max_examples=100)
@given(
    labels=st.lists(
        st.one_of(st.text(max_size=8), st.sampled_from(["=1", "@x", "-1", "+a"])),
        min_size=1,
        max_size=6,
    )
)
def test_exported_tokens_read_back_as_text_never_as_formulas(labels):
    torch.manual_seed(0)
    tr = lstm_viz.trace(torch.nn.GRU(1, 1), torch.randn(len(labels), 1), labels=labels)
    rows = list(csv.reader(io.StringIO(export.trace_csv(tr), newline="")))[1:]
    number = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")
    for row in rows:
        token, label = row[1], labels[int(row[0])]
        if token[:1] in ("=", "+", "-", "@", "\t", "\r"):
            assert number.fullmatch(token) and token == label
        else:
            assert token == label or (token == "'" + label and label[:1] in "=+-@\t\r")
