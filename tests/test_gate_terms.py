"""gate_terms / gate_drivers: the terms add up to the pre-activation of an independent float64
recurrence, and squashed they give the traced gate, for every core, layer, direction, projection,
bias, dtype and initial state; hand-computed terms; clamps; errors; the figures; the chars model."""

from __future__ import annotations

import ast
import dataclasses
import json
import re
from pathlib import Path

import numpy as np
import plotly.io as pio
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import lstm_viz
from lstm_viz import moments
from lstm_viz.figures import terms as figure_terms
from lstm_viz.gate_terms import gate_drivers, gate_terms
from lstm_viz.tasks import chars

GATES = {"LSTM": ("input", "forget", "candidate", "output"), "GRU": ("reset", "update", "new")}
GATES["RNN"] = ("hidden",)
SQUASHED_BY = dict(input="sigmoid", forget="sigmoid", candidate="tanh", output="sigmoid")
SQUASHED_BY.update(reset="sigmoid", update="sigmoid", new="tanh", hidden=None)  # RNN: its own


def sig(z):
    return 1 / (1 + np.exp(-z))


def reference_pre(module, x, h0=None, c0=None):
    """{(name, layer, direction): (T, H)} pre-activations from a float64 numpy loop written from
    PyTorch's docs, without lstm_viz code (GRU new: W_in x + b_in + r * (W_hn h + b_hn))."""
    kind = type(module).__name__
    gates, hsize = GATES[kind], module.hidden_size
    dirs = 2 if module.bidirectional else 1
    seq, out = x.double().numpy(), {}
    for layer in range(module.num_layers):
        outs = []
        for d in range(dirs):
            sfx = f"_l{layer}" + ("_reverse" if d else "")
            p = {k: getattr(module, k + sfx, None) for k in ("weight_ih", "weight_hh", "weight_hr")}
            p = {k: None if v is None else v.detach().double().numpy() for k, v in p.items()}
            bias = [getattr(module, k + sfx, None) for k in ("bias_ih", "bias_hh")]
            b_i, b_h = (0.0 if b is None else b.detach().double().numpy() for b in bias)
            k = layer * dirs + d
            h = np.zeros(p["weight_hh"].shape[1]) if h0 is None else h0[k].double().numpy()
            c = np.zeros(hsize) if c0 is None else c0[k].double().numpy()
            pre, hs = np.zeros((len(seq), len(gates), hsize)), np.zeros((len(seq), len(h)))
            for t in range(len(seq) - 1, -1, -1) if d else range(len(seq)):
                zx = (p["weight_ih"] @ seq[t] + b_i).reshape(len(gates), hsize)
                zh = (p["weight_hh"] @ h + b_h).reshape(len(gates), hsize)
                if kind == "LSTM":
                    z = zx + zh
                    c = sig(z[1]) * c + sig(z[0]) * np.tanh(z[2])
                    h = sig(z[3]) * np.tanh(c)
                    h = h if p["weight_hr"] is None else p["weight_hr"] @ h
                elif kind == "GRU":
                    r, u = sig(zx[0] + zh[0]), sig(zx[1] + zh[1])
                    z = np.stack([zx[0] + zh[0], zx[1] + zh[1], zx[2] + r * zh[2]])
                    h = (1 - u) * np.tanh(z[2]) + u * h
                else:
                    z = zx + zh
                    h = np.tanh(z[0]) if module.nonlinearity == "tanh" else np.maximum(z[0], 0)
                pre[t], hs[t] = z, h
            out.update({(name, layer, d): pre[:, g] for g, name in enumerate(gates)})
            outs.append(hs)
        seq = np.concatenate(outs, axis=1)
    return out


GRID = [
    (torch.nn.LSTM, dict(input_size=3, hidden_size=5)),
    (torch.nn.LSTM, dict(input_size=3, hidden_size=5, num_layers=2, bidirectional=True)),
    (torch.nn.LSTM, dict(input_size=3, hidden_size=6, proj_size=3, num_layers=2)),
    (torch.nn.LSTM, dict(input_size=2, hidden_size=6, proj_size=2, bidirectional=True)),
    (torch.nn.LSTM, dict(input_size=3, hidden_size=4, bias=False, num_layers=2)),
    (torch.nn.GRU, dict(input_size=3, hidden_size=5, num_layers=2, bidirectional=True)),
    (torch.nn.GRU, dict(input_size=3, hidden_size=4, bias=False)),
    (torch.nn.RNN, dict(input_size=3, hidden_size=5, num_layers=2, bidirectional=True)),
    (torch.nn.RNN, dict(input_size=3, hidden_size=5, num_layers=2, nonlinearity="relu")),
    (torch.nn.RNN, dict(input_size=3, hidden_size=4, nonlinearity="relu", bias=False)),
]


def _state(module, dtype):
    """A random initial state in the layout the module takes (unbatched)."""
    n = module.num_layers * (2 if module.bidirectional else 1)
    h0 = torch.randn(n, getattr(module, "proj_size", 0) or module.hidden_size, dtype=dtype)
    if isinstance(module, torch.nn.LSTM):
        return h0, torch.randn(n, module.hidden_size, dtype=dtype)
    return h0, None


@pytest.mark.parametrize("cls,kw", GRID, ids=lambda v: getattr(v, "__name__", str(v)))
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
@pytest.mark.parametrize("given_state", [False, True], ids=["zeros", "state"])
def test_terms_sum_to_the_reference_preactivation_and_squash_to_the_traced_gate(
    cls, kw, dtype, given_state
):
    torch.manual_seed(0)
    module = cls(**kw).to(dtype).eval()
    x = torch.randn(9, kw["input_size"], dtype=dtype)
    h0, c0 = _state(module, dtype) if given_state else (None, None)
    state = None if h0 is None else ((h0, c0) if c0 is not None else h0)
    tr = lstm_viz.trace(module, x, state=state)
    ref = reference_pre(module, x, h0, c0)
    tight = dtype == torch.float64
    tol_pre, tol_value = (1e-10, 1e-12) if tight else (1e-4, 1e-5)
    for (name, layer, d), pre in ref.items():
        traced = tr.gate(name, layer, d)
        drv = gate_drivers(tr, module, name, 1, layer, d)
        np.testing.assert_allclose(drv.preactivation, pre[:, 1], atol=tol_pre, rtol=0)
        np.testing.assert_allclose(drv.value, traced[:, 1], atol=tol_value, rtol=0)
        np.testing.assert_allclose(drv.input + drv.recurrent + drv.bias, drv.preactivation)
        if not kw.get("bias", True):
            assert not drv.bias.any()
        for step in (0, 4, 8):  # the first step read is 0 forward and 8 backward
            for unit in (0, kw["hidden_size"] - 1):
                gt = gate_terms(tr, module, name, unit, step, layer, d, top=2)
                assert sum(gt.terms.values()) == pytest.approx(gt.preactivation, abs=1e-12)
                assert gt.preactivation == pytest.approx(pre[step, unit], abs=tol_pre)
                assert gt.value == pytest.approx(traced[step, unit], abs=tol_value)
                assert gt.traced == float(traced[step, unit]) and not gt.clamped
                assert gt.squash == (SQUASHED_BY[name] or kw.get("nonlinearity", "tanh"))
                h_out = kw.get("proj_size") or kw["hidden_size"]
                if h_out > 2:  # the 2 largest, then the other units summed
                    assert list(gt.recurrent_terms)[-1] == f"other {h_out - 2} units"
                assert len(gt.recurrent_terms) == min(3, h_out)
                width = kw["input_size"] if layer == 0 else h_out * tr.num_directions
                assert len(gt.input_terms) == width
                assert len(gt.bias_terms) == (2 if kw.get("bias", True) else 0)
                grouped = gt.grouped()
                assert sum(grouped.values()) == pytest.approx(gt.preactivation, abs=1e-12)


def test_gru_new_by_hand():
    """Every number worked out on paper: x = 2, h0 = (1, -1), unit 0 of a GRU(1, 2)."""
    gru = torch.nn.GRU(1, 2).double()
    with torch.no_grad():
        for p in gru.parameters():
            p.zero_()
        gru.weight_ih_l0[0, 0] = 0.5  # reset: 0.5 * 2 + 1 * 1 + (-2) = 0, so r = 0.5
        gru.weight_hh_l0[0] = torch.tensor([1.0, 0.0])
        gru.bias_hh_l0[0] = -2.0
        gru.weight_ih_l0[4, 0] = 1.0  # new: 2 + 0.5 + 0.5 * (2 * 1 + 3 * -1 + 1)
        gru.bias_ih_l0[4] = 0.5
        gru.weight_hh_l0[4] = torch.tensor([2.0, 3.0])
        gru.bias_hh_l0[4] = 1.0
    x = torch.tensor([[2.0]], dtype=torch.float64)
    tr = lstm_viz.trace(gru, x, state=torch.tensor([[1.0, -1.0]], dtype=torch.float64))
    assert tr.gate("reset")[0, 0] == 0.5
    gt = gate_terms(tr, gru, "new", 0, 0)
    assert gt.terms == {"x[0]": 2.0, "r·h[1]": -1.5, "r·h[0]": 1.0, "b_in": 0.5, "r·b_hn": 0.5}
    assert gt.preactivation == 2.5 and gt.value == np.tanh(2.5) and gt.squash == "tanh"
    assert gt.grouped() == {"input": 2.0, "r·h[1]": -1.5, "r·h[0]": 1.0, "b_in": 0.5, "r·b_hn": 0.5}
    assert "new[0] at step 0 = tanh(+2.50) = 0.987" in gt.summary()


def test_reverse_direction_reads_the_next_step_by_hand():
    rnn = torch.nn.RNN(1, 1, bidirectional=True).double()
    with torch.no_grad():
        for p in rnn.parameters():
            p.zero_()
        rnn.weight_ih_l0_reverse.fill_(1.0)
        rnn.weight_hh_l0_reverse.fill_(2.0)
    tr = lstm_viz.trace(rnn, torch.tensor([[0.0], [0.0], [1.0]], dtype=torch.float64))
    back = gate_terms(tr, rnn, "hidden", 0, 1, direction=1)  # reads h at step 2: tanh(1)
    assert back.terms == {"x[0]": 0.0, "h[0]": 2 * np.tanh(1.0), "b_ih": 0.0, "b_hh": 0.0}
    assert gate_terms(tr, rnn, "hidden", 0, 2, direction=1).recurrent_terms == {"h[0]": 0.0}
    assert gate_terms(tr, rnn, "hidden", 0, 2, direction=0).value == 0.0  # forward: no weights


def test_upper_layer_reads_both_directions_of_the_layer_below():
    torch.manual_seed(1)
    lstm = torch.nn.LSTM(2, 3, num_layers=2, bidirectional=True, proj_size=2).double()
    tr = lstm_viz.trace(lstm, torch.randn(5, 2, dtype=torch.float64))
    gt = gate_terms(tr, lstm, "forget", 1, 3, layer=1, direction=1)
    below = np.concatenate([tr.gate("hidden", 0, 0)[3], tr.gate("hidden", 0, 1)[3]])
    w = lstm.weight_ih_l1_reverse.detach()[3 + 1].numpy()  # forget rows follow the 3 input rows
    assert list(gt.input_terms.values()) == pytest.approx(list(w * below), abs=1e-15)
    assert list(gt.input_terms)[:3] == ["below fwd h[0]", "below fwd h[1]", "below bwd h[0]"]
    assert gt.input_label == "input (layer 0 hidden)"


def test_clamps_flagged_where_they_set_the_gate_and_followed_where_they_flow():
    torch.manual_seed(2)
    lstm = torch.nn.LSTM(3, 4)
    x = torch.randn(8, 3)
    clamps = [lstm_viz.Clamp("forget", 0.0, units=[1], steps=[3]),
              lstm_viz.Clamp("hidden", 0.5, units=[2], steps=[4])]  # fmt: skip
    tr = lstm_viz.trace(lstm, x, interventions=clamps)
    shut = gate_terms(tr, lstm, "forget", 1, 3)
    assert shut.clamped and shut.traced == 0.0 and shut.value > 0.01  # the formula: not applied
    assert "clamped to 0.000" in shut.summary()
    after = gate_terms(tr, lstm, "forget", 1, 5)  # reads the clamped h_4: the formula holds
    assert not after.clamped and after.value == pytest.approx(after.traced, abs=1e-6)
    assert after.recurrent_terms["h[2]"] == pytest.approx(
        0.5 * float(lstm.weight_hh_l0.detach()[4 + 1, 2]), abs=1e-6
    )
    drv = gate_drivers(tr, lstm, "forget", 1)
    np.testing.assert_array_equal(drv.clamped, tr.clamped("forget")[:, 1])
    gru = torch.nn.GRU(3, 4)
    tr = lstm_viz.trace(gru, x, interventions=[lstm_viz.Clamp("reset", 1.0, units=[0], steps=[2])])
    new = gate_terms(tr, gru, "new", 0, 2)  # n reads the clamped r = 1
    assert new.terms["r·b_hn"] == pytest.approx(float(gru.bias_hh_l0.detach()[8]), abs=1e-7)
    assert new.value == pytest.approx(new.traced, abs=1e-6)


CLAMPABLE = {"lstm": ("input", "forget", "candidate", "output", "cell", "hidden"),
             "gru": ("reset", "update", "new", "hidden"), "rnn": ("hidden",)}  # fmt: skip
CORES = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}


@st.composite
def clamped_traces(draw):
    """A small module of any core and shape, traced under 1 to 3 random clamps: the engine picks
    its fused, weight-edit or step-by-step path by what the clamps are."""
    kind = draw(st.sampled_from(sorted(CORES)))
    kw = dict(input_size=2, hidden_size=3, num_layers=draw(st.integers(1, 2)))
    kw["bidirectional"] = draw(st.booleans())
    if kind == "lstm" and draw(st.booleans()):
        kw["proj_size"] = 2
    torch.manual_seed(draw(st.integers(0, 50)))
    module = CORES[kind](**kw).double()
    steps = 6
    clamps = []
    for _ in range(draw(st.integers(1, 3))):
        name = draw(st.sampled_from(CLAMPABLE[kind]))
        low = 0.0 if name in SQUASHED_BY and SQUASHED_BY[name] == "sigmoid" else -1.0
        value = draw(st.floats(low, 1.5 if name in ("cell", "hidden") else 1.0))
        units = draw(st.lists(st.integers(0, 1), min_size=1, max_size=2, unique=True))
        first = draw(st.integers(0, steps - 1))
        span = range(first, draw(st.integers(first + 1, steps)))
        layer = draw(st.integers(0, kw["num_layers"] - 1))
        clamps.append(lstm_viz.Clamp(name, value, layer=layer, units=units, steps=span))
    tr = lstm_viz.trace(module, torch.randn(steps, 2, dtype=torch.float64), interventions=clamps)
    return module, tr


@settings(max_examples=40, derandomize=True, deadline=None, database=None)
@given(case=clamped_traces())
def test_terms_hold_under_any_clamps_wherever_the_gate_itself_was_not_clamped(case):
    """A clamp changes what later steps and layers read; the terms read the trace's own states,
    so they still reproduce every gate no clamp set (gate_drivers would refuse otherwise)."""
    module, tr = case
    for name in GATES[type(module).__name__]:
        for layer in range(tr.num_layers):
            for d in range(tr.num_directions):
                for unit in range(tr.hidden_size):
                    drv = gate_drivers(tr, module, name, unit, layer, d)
                    free = ~drv.clamped
                    np.testing.assert_allclose(drv.value[free], drv.traced[free], atol=1e-12)
                    np.testing.assert_array_equal(drv.clamped, tr.clamped(name, layer, d)[:, unit])


def test_batched_trace_and_save_load_give_the_same_terms(tmp_path):
    torch.manual_seed(3)
    lstm = torch.nn.LSTM(3, 4, batch_first=True)
    xs = torch.randn(2, 6, 3)
    h0, c0 = torch.randn(1, 2, 4), torch.randn(1, 2, 4)
    tr = lstm_viz.trace(lstm, xs, state=(h0, c0))
    one = lstm_viz.trace(lstm, xs[1], state=(h0[:, 1], c0[:, 1]))
    assert gate_terms(tr, lstm, "input", 2, 0, batch=1) == gate_terms(one, lstm, "input", 2, 0)
    one.save(tmp_path / "t.npz")
    back = lstm_viz.LSTMTrace.load(tmp_path / "t.npz")
    np.testing.assert_array_equal(back.inputs, one.inputs)
    np.testing.assert_array_equal(back.initial_state[1], c0[:, 1].numpy())
    assert gate_terms(back, lstm, "output", 3, 0) == gate_terms(one, lstm, "output", 3, 0)
    with pytest.raises(ValueError, match="batch 2 out of range"):
        gate_terms(tr, lstm, "input", 0, 0, batch=2)


def test_bad_arguments_raise_value_errors_that_name_the_fix():
    torch.manual_seed(4)
    lstm, gru = torch.nn.LSTM(2, 3, num_layers=2), torch.nn.GRU(2, 3)
    tr = lstm_viz.trace(lstm, torch.randn(5, 2))
    cases = [
        (dict(name="cell"), "choose one of input, forget, candidate, output"),
        (dict(name="hidden"), "cell and hidden follow from the gates"),
        (dict(name="reset"), "choose one of input, forget"),
        (dict(name="Forget"), "not a gate"),
        (dict(unit=3), r"unit 3 out of range; 'forget' has 3 units \(0..2\)"),
        (dict(unit=-1), "unit -1 out of range"),
        (dict(unit=1.0), "unit must be a whole number"),
        (dict(step=5), "step 5 out of range; the trace has 5 steps"),
        (dict(step=-1), "step -1 out of range"),
        (dict(step="2"), "step must be a whole number"),
        (dict(layer=2), "layer 2 out of range"),
        (dict(direction=1), "not bidirectional"),
        (dict(module=gru), "the module's kind is gru but the trace's is lstm"),
        (dict(module=torch.nn.LSTM(2, 4, num_layers=2)), "hidden_size is 4 but the trace's is 3"),
        (dict(module=torch.nn.LSTM(2, 3, num_layers=2)), "the terms give .* but the trace has"),
        (dict(top=-1), "top must be 0 or more"),
        (dict(module=torch.nn.Linear(2, 3)), "pass its recurrent submodule"),
        (dict(trace="not a trace"), "must be an lstm_viz.LSTMTrace"),
    ]
    base = dict(trace=tr, module=lstm, name="forget", unit=1, step=2)
    for change, message in cases:
        with pytest.raises(ValueError, match=message):
            gate_terms(**{**base, **change})
    with pytest.raises(ValueError, match="choose one of reset, update, new"):
        gate_drivers(lstm_viz.trace(gru, torch.randn(4, 2)), gru, "hidden", 0)
    old = dataclasses.replace(tr, inputs=None, initial_state=None)  # saved before they were kept
    with pytest.raises(ValueError, match="trace the module again"):
        gate_terms(old, lstm, "forget", 1, 2)
    assert gate_terms(old, lstm, "forget", 1, 2, layer=1) == gate_terms(tr, lstm, "forget", 1, 2, 1)


def test_waterfall_shows_every_term_the_sum_and_the_squash():
    names, values = ["input (<b>x</b>)", "h[3]", "h[3]", "b_if"], [-2.5, 1.0, 0.25, 0.5]
    fig = figure_terms.terms_waterfall(names, values, -0.75, float(sig(-0.75)), "sigmoid", "t")
    fall, curve, point = fig.data
    shown = ["input (&lt;b&gt;x&lt;/b&gt;)", "h[3]", "h[3] #2", "b_if", "pre-activation"]
    assert list(fall.x) == shown
    assert list(fall.y) == [*values, -0.75] and list(fall.measure)[-1] == "total"
    assert list(fall.text) == ["-2.50", "+1.00", "+0.25", "+0.50", "-0.75"]
    np.testing.assert_allclose(curve.y, sig(np.asarray(curve.x)))
    assert (point.x[0], point.y[0], point.text[0]) == (-0.75, sig(-0.75), "0.321")
    json.loads(pio.to_json(fig))  # valid and serialisable
    with pytest.raises(ValueError, match="unknown squash"):
        figure_terms.terms_waterfall(names, values, -0.75, 0.3, "softmax")
    with pytest.raises(ValueError, match="one per term"):
        figure_terms.terms_waterfall(names, values[:2], -0.75, 0.3, "tanh")


def test_figure_terms_imports_only_what_the_figures_package_allows():
    """It is to move into lstm_viz/figures/, whose modules know no models, traces or Streamlit."""
    tree = ast.parse(Path(figure_terms.__file__).read_text())
    for node in ast.walk(tree):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
        names += [node.module or ""] if isinstance(node, ast.ImportFrom) else []
        for name in names:
            inside = name.startswith("lstm_viz") and name != "lstm_viz.cells"
            assert not inside or name.startswith("lstm_viz.figures"), name
            assert not name.startswith(("streamlit", "torch")), name


def test_drivers_lines_mark_the_step():
    a, b, c = np.arange(5.0), -np.arange(5.0), np.full(5, 0.5)
    fig = figure_terms.drivers_lines(a, b, c, 3, ["a", "b", "<i>", "d", "e"])
    assert [list(t.y) for t in fig.data] == [list(a), list(b), list(c)]
    assert fig.layout.shapes[0].x0 == 3 and fig.layout.annotations[0].text == "step 3 d"
    assert list(fig.data[0].text)[2] == "&lt;i&gt;"
    with pytest.raises(ValueError, match="step 5 out of range"):
        figure_terms.drivers_lines(a, b, c, 5)
    with pytest.raises(ValueError, match="one length"):
        figure_terms.drivers_lines(a, b[:4], c, 1)


def test_chars_model_drivers_split_the_embedding_input():
    model = lstm_viz.load_shipped("chars_lstm")
    text = 'she said "no (not yet)." then went home.'
    tr, _ = model.trace(chars.encode_text(text), labels=chars.step_labels(text))
    drv = gate_drivers(tr, model.core, "input", 7)
    np.testing.assert_allclose(drv.value, tr.gate("input")[:, 7], atol=1e-5)
    # a character's input part is its embedding row times the gate's weights, wherever it is
    emb = model.encoder.weight.detach().double()[chars.encode_text(text)]  # (T, 16)
    w = model.core.weight_ih_l0.detach().double()[7]  # input gate rows come first
    np.testing.assert_allclose(drv.input, (emb @ w).numpy(), atol=1e-6)
    gt = gate_terms(tr, model.core, "input", 7, 3)
    assert gt.input_label == "input (␣)" and len(gt.input_terms) == 16
    assert gt.input_total == pytest.approx(drv.input[3], abs=1e-12)


def test_forget_gate_closed_by_the_space_not_by_the_memory():
    """The finding for a lesson stop, re-measured from the weights without gate_terms."""
    m = moments.forget_closed_by_space()
    n, unit, tr = m.numbers, m.unit, m.trace
    core, emb = moments.model("chars_lstm").core, moments.model("chars_lstm").encoder.weight
    hidden = core.hidden_size
    w_x = core.weight_ih_l0.detach().double()[hidden + unit]  # forget rows follow input rows
    w_h = core.weight_hh_l0.detach().double()[hidden + unit]
    ids = chars.encode_text(" ")
    space_input = float(emb.detach().double()[ids[0]] @ w_x)
    assert n["space_input"] == pytest.approx(space_input, abs=1e-9) and space_input < -9
    assert tr.labels[m.step] == chars.SPACE
    memory = float(w_h @ torch.tensor(tr.gate("hidden")[m.step - 1], dtype=torch.float64))
    assert n["memory"] == pytest.approx(memory, abs=1e-9) and memory > 3  # pushes to keep open
    h = torch.tensor(tr.gate("hidden"), dtype=torch.float64)
    at_spaces = [float(w_h @ h[k - 1]) for k, t in enumerate(tr.labels) if t == chars.SPACE]
    assert memory == pytest.approx(max(at_spaces), abs=1e-12)  # the most it adds at any space
    b = float(core.bias_ih_l0.detach()[hidden + unit] + core.bias_hh_l0.detach()[hidden + unit])
    assert n["pre"] == pytest.approx(space_input + memory + b, abs=1e-5)
    f = tr.gate("forget")[:, unit]
    space = np.array([t == chars.SPACE for t in tr.labels])
    assert f[m.step] == pytest.approx(n["value"], abs=1e-6) and f[space].max() < 0.01
    assert f[~space].mean() > 0.6 and n["f_space_max"] == f[space].max()
    # no other character pushes this gate down half as hard as the space does
    others = emb.detach().double()[[i for i in range(len(chars.VOCAB)) if i != ids[0]]] @ w_x
    assert float(others.min()) == pytest.approx(n["runner_up_input"], abs=1e-9)
    assert float(others.min()) > space_input / 2
    # and on the 2,000-character held-out text the space shuts it at every one of its spaces
    held = chars.heldout_text()
    tr2, _ = moments.model("chars_lstm").trace(chars.encode_text(held))
    spaces = np.array(list(held)) == " "
    assert spaces.sum() == 462 and tr2.gate("forget")[spaces, unit].max() < 0.02  # as the README


def test_readme_example_prints_what_the_readme_says(capsys):
    text = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = text.split("### Why did this gate take its value?")[1].split("### ")[0]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    exec(compile(code, "README.md", "exec"), {})
    printed = capsys.readouterr().out.strip()
    assert f"# {printed}\n" in code
    n = moments.forget_closed_by_space().numbers  # the prose's numbers, measured again
    quoted = [f"averages {n['f_other']:.2f}", f"at most {n['f_space_max']:.3f}",
              f"at its {n['n_space']} spaces", f"adds {n['space_input']:.2f}",
              f"{n['memory']:+.2f}, the most", f"biases {n['bias']:+.2f}",
              f"sigmoid({n['pre']:.2f}) = {n['value']:.3f}",
              f"(`{n['runner_up']}` comes next, {n['runner_up_input']:.2f})"]  # fmt: skip
    flat = " ".join(section.split())
    for claim in quoted:
        assert claim in flat, claim
