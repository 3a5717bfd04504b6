"""The Python API under bad arguments (issue 10): a ValueError with a fix-it hint, never a
RuntimeError, TypeError, IndexError, MemoryError or RecursionError; lazy Clamp ranges that are
exact; modules the trace cannot reproduce refused; messages that cap their echo; training that
refuses values it cannot square.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import lstm_viz
from lstm_viz import Clamp
from lstm_viz.limits import MAX_CLAMP_INDICES, MAX_SERIES, MAX_STATE_CLAMP
from lstm_viz.models import ModelConfig, SequenceModel
from lstm_viz.tasks import chars, cue, forecast, series


def _lstm(**kw) -> torch.nn.LSTM:
    torch.manual_seed(0)
    return torch.nn.LSTM(**{"input_size": 2, "hidden_size": 3, **kw}).eval()


X = torch.randn(10, 2, generator=torch.Generator().manual_seed(1))


# --- Clamp: ranges checked by their ends, values bounded ----------------------------------------


def test_a_huge_range_is_never_expanded_and_is_refused_by_its_end():
    c = Clamp("forget", 0.0, steps=range(10**12))  # a tuple of 10**12 ints would never fit
    assert c.steps == range(10**12)
    with pytest.raises(ValueError, match=r"Clamp steps \[999999999999\] out of range; .*10 steps"):
        lstm_viz.trace(_lstm(), X, interventions=[c])
    with pytest.raises(ValueError, match=r"Clamp units \[-1\] out of range"):
        lstm_viz.trace(_lstm(), X, interventions=[Clamp("cell", 0.0, units=range(-1, 2))])


@pytest.mark.parametrize("steps", [range(2, 8, 3), range(9, -1, -4), range(3, 3), range(4, 6)])
def test_a_range_clamps_exactly_the_steps_its_list_does(steps):
    by_range = lstm_viz.trace(_lstm(), X, interventions=[Clamp("forget", 0.0, steps=steps)])
    by_list = lstm_viz.trace(_lstm(), X, interventions=[Clamp("forget", 0.0, steps=list(steps))])
    np.testing.assert_array_equal(by_range.gate("cell"), by_list.gate("cell"))
    np.testing.assert_array_equal(by_range.clamped("forget")[:, 0], np.isin(range(10), steps))


def test_an_endless_iterator_of_steps_is_refused_after_the_limit():
    endless = iter(range(10**12))
    with pytest.raises(ValueError, match=f"more than {MAX_CLAMP_INDICES:,} items; pass a range"):
        Clamp("forget", 0.0, steps=endless)


@pytest.mark.parametrize(
    ("kw", "pattern"),
    [
        (
            {"name": "cell", "value": 1e39},
            rf"1e\+39 for 'cell' is out of range.*{MAX_STATE_CLAMP:g}",
        ),
        ({"name": "hidden", "value": -1e5}, r"-100000 for 'hidden' is out of range"),
        ({"name": "cell", "value": 10**400}, r"must be finite"),
        ({"name": ["cell"], "value": 0.0}, r"name must be a string"),
        ({"name": "cell", "value": 0.0, "layer": "0"}, r"Clamp layer must be a whole number"),
        ({"name": "cell", "value": 0.0, "direction": 0.5}, r"Clamp direction must be a whole"),
        ({"name": "cell", "value": 0.0, "steps": 5}, r"steps must be a list or range"),
        ({"name": "cell", "value": 0.0, "units": object()}, r"units must be a list or range"),
        ({"name": "cell", "value": 0.0, "units": [[0, 1]]}, r"each of Clamp units must be"),
    ],
)
def test_bad_clamp_arguments_are_value_errors(kw, pattern):
    with pytest.raises(ValueError, match=pattern):
        Clamp(**kw)


def test_a_state_clamp_at_the_limit_is_traced_exactly():
    tr = lstm_viz.trace(_lstm(), X, interventions=[Clamp("cell", MAX_STATE_CLAMP, steps=[4])])
    assert tr.gate("cell")[4].tolist() == [MAX_STATE_CLAMP] * 3
    assert np.isfinite(tr.output).all()


# --- inputs of the wrong kind -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("x", "pattern"),
    [
        (torch.empty(10, 2, device="meta"), r"input is on meta; pass it on the CPU"),
        (X.to_sparse(), r"sparse_coo tensor; pass a dense one"),
        (X.to(torch.complex64), r"must be numeric, got torch\.complex64"),
        (X > 0, r"must be numeric, got torch\.bool"),
        (np.array([["a", "b"]]), r"must be a numeric array or tensor"),
        ([[1.0, None]], r"must be a numeric array or tensor"),
        (torch.zeros(10, 0, 2), r"0 sequences"),
        (np.full((3, 2), 1e39), r"NaN or inf"),  # overflows the module's float32
    ],
    ids=lambda v: str(getattr(v, "dtype", v))[:20],
)
def test_inputs_of_the_wrong_kind_are_value_errors(x, pattern):
    with pytest.raises(ValueError, match=pattern):
        lstm_viz.trace(_lstm(), x)


def test_bad_state_labels_and_module_placement_are_value_errors():
    with warnings.catch_warnings():  # torch calls complex modules experimental: that is the point
        warnings.simplefilter("ignore")
        complex_net = _lstm().to(torch.complex64)
    cases = [
        (lambda: lstm_viz.trace(_lstm(), X, state=("a", "b")), r"h0 must be a numeric"),
        (lambda: lstm_viz.trace(_lstm(), X, labels=5), r"labels must be a list of strings"),
        (lambda: lstm_viz.trace(_lstm(), X, labels=["a"]), r"got 1 labels for 10 steps"),
        (lambda: lstm_viz.trace(torch.nn.LSTM(2, 3, device="meta"), X), r"not on the CPU"),
        (lambda: lstm_viz.trace(complex_net, X), r"real floats"),
    ]
    for fn, pattern in cases:
        with pytest.raises(ValueError, match=pattern):
            fn()


def test_token_and_value_models_refuse_inputs_they_cannot_read():
    torch.manual_seed(0)
    tokens = SequenceModel(ModelConfig(vocab=["a", "b"], hidden_size=2, output_size=2)).eval()
    values = SequenceModel(ModelConfig(input_size=2, hidden_size=2)).eval()
    cases = [
        (lambda: tokens.trace(np.array([0.5, 1.0])), r"token ids must be whole numbers"),
        (lambda: tokens.trace(np.array([0, 2])), r"token ids must be in 0\.\.1"),
        (lambda: tokens.trace(torch.zeros(3, device="meta")), r"meta .* pass a dense CPU one"),
        (lambda: values.trace(np.array(["x", "y"])), r"numeric array or tensor"),
        (lambda: values.trace(np.zeros((2, 2, 2, 2))), r"got shape \(2, 2, 2, 2\)"),
        (lambda: values.trace(np.ones((4, 2), dtype=bool)), r"reads real numbers"),
    ]
    for fn, pattern in cases:
        with pytest.raises(ValueError, match=pattern):
            fn()
    tr, _ = tokens.trace(np.array([0.0, 1.0, 1.0]))  # whole floats are fine ids
    assert tr.steps == 3


# --- modules the trace cannot reproduce ---------------------------------------------------------


class DoubledLSTM(torch.nn.LSTM):
    def forward(self, x, hx=None):
        out, state = super().forward(x, hx)
        return out * 2, state


class ScaledGRU(torch.nn.GRU):
    def forward(self, x, hx=None):
        return super().forward(x * 0.5, hx)


class NamedLSTM(torch.nn.LSTM):
    """A subclass that only adds a name: its forward is torch's, so it traces exactly."""


@pytest.mark.parametrize("cls,base", [(DoubledLSTM, "LSTM"), (ScaledGRU, "GRU")])
def test_a_subclass_with_its_own_forward_is_refused(cls, base):
    torch.manual_seed(0)
    with pytest.raises(
        ValueError, match=rf"overrides forward\(\).*pass the inner torch\.nn\.{base}"
    ):
        lstm_viz.trace(cls(2, 3), X)


def test_a_subclass_that_keeps_torchs_forward_traces_exactly():
    torch.manual_seed(0)
    net = NamedLSTM(2, 3).eval()
    with torch.no_grad():
        out, _ = net(X)
    np.testing.assert_allclose(lstm_viz.trace(net, X).output, out.numpy(), atol=1e-6)


def test_a_module_with_hooks_is_refused_until_they_are_removed():
    net = _lstm()
    for register, what in [
        (net.register_forward_hook, "forward hook"),
        (net.register_forward_pre_hook, "forward pre-hook"),
        (torch.nn.modules.module.register_module_forward_hook, "global forward hook"),
    ]:
        handle = register(lambda *args: None)
        try:
            with pytest.raises(ValueError, match=f"has a {what} registered.*handle.remove"):
                lstm_viz.trace(net, X)
        finally:
            handle.remove()  # global hooks would leak into every later test
    assert lstm_viz.trace(net, X).steps == 10


# --- messages cap their echo --------------------------------------------------------------------


def test_unknown_word_messages_list_ten_then_say_how_many_more():
    words = " ".join(f"zork{chr(97 + i % 26)}{chr(97 + i // 26)}" for i in range(322))
    # the cue task reads unknown words as its unknown token now (issue 13): no error to echo
    assert cue.tokenize(words) == ["<unk>"] * 322
    with pytest.raises(ValueError, match=r"… and 290 more; use lowercase"):
        chars.encode_text("".join(chr(0x4E00 + i) for i in range(300)))
    model = SequenceModel(ModelConfig(vocab=["a", "b"], hidden_size=2, output_size=2))
    with pytest.raises(ValueError, match=r"'Z{29}…', .*… and 41 more"):
        model.tokens_to_ids(["Z" * 10_000] + [f"w{i}" for i in range(50)])


# --- training refuses values it cannot square ---------------------------------------------------


def test_training_on_huge_values_is_refused_before_it_starts():
    t = np.arange(200)
    cases = [
        (np.where(t % 2, 1e300, -1e300), r"values up to 1e\+300; .*up to 1e\+100: divide"),
        (np.r_[np.sin(t / 3), np.inf], r"1 missing or infinite values"),
        (
            np.sin(np.arange(MAX_SERIES + 1) / 3),
            rf"{MAX_SERIES + 1} values; .*at most {MAX_SERIES}",
        ),
    ]
    for values, pattern in cases:
        with pytest.raises(ValueError, match=pattern):
            forecast.train_on_series(values, steps=1)
    with pytest.raises(
        ValueError, match=r"season must be a whole number, got 2\.5; e\.g\. season=12"
    ):
        series.custom_series(np.sin(t / 3), season=2.5)


def test_forecast_horizons_are_bounded():
    torch.manual_seed(0)
    extra = {"scaling": {"difference": False, "mean": 0.0, "std": 1.0}}
    model = SequenceModel(ModelConfig(hidden_size=2, task="forecast", extra=extra)).eval()
    v = np.sin(np.arange(80) / 3)
    assert forecast.forecast(model, v, 40, 500).shape == (500,)
    for horizon, pattern in [(10**9, r"forecast 1\.\.500 steps"), (2.0, r"whole number")]:
        with pytest.raises(ValueError, match=pattern):
            forecast.forecast(model, v, 40, horizon)


def test_generated_inputs_refuse_what_is_not_a_count():
    from lstm_viz import inputs

    cases = [
        ((None,), r"length 'None' is not a whole number; choose 1\.\.5000"),
        (("²",), r"length '²' is not a whole number"),  # str.isdigit() says yes; int() says no
        ((30, None), r"seed 'None' is not a whole number"),
        ((30, 0, float("nan")), r"noise nan out of range; choose 0\.\.10"),
        ((30, 0, "0.1"), r"noise 0\.1 out of range"),
    ]
    for args, pattern in cases:
        with pytest.raises(ValueError, match=pattern):
            inputs.generated_series(*args)
    np.testing.assert_array_equal(inputs.generated_series("30"), inputs.generated_series(30))
    with pytest.raises(ValueError, match=r"shape \(2, 2, 2\)"):
        inputs.numbers_input(SequenceModel(ModelConfig(hidden_size=2)), np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match=r"must be numbers"):
        inputs.numbers_input(SequenceModel(ModelConfig(hidden_size=2)), [{"a": 1}])
