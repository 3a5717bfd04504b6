"""Fuzzing the parsers a user reaches (typed text, numbers, CSV files, the tasks' tokenizers, an
uploaded model file) with hypothesis: each returns a well-formed result or raises ValueError,
never anything else.

Fixed example counts and derandomize=True: the same inputs on every run, a few seconds in all.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, event, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from lstm_viz import inputs  # noqa: E402
from lstm_viz.limits import MAX_STEPS  # noqa: E402
from lstm_viz.models import ModelConfig, SequenceModel, load_shipped, shipped_models  # noqa: E402
from lstm_viz.tasks import chars, cue  # noqa: E402

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
