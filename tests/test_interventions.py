"""Semantics of Clamp: against hand-computed recurrences and the float64 reference."""

import numpy as np
import pytest
import torch
from reference import reference

import lstm_viz
from lstm_viz import Clamp


def lstm(seed=0, **kw):
    torch.manual_seed(seed)
    kw = {"input_size": 3, "hidden_size": 6, **kw}
    return torch.nn.LSTM(**kw).eval()


def test_forget_zero_leaves_only_the_new_write():
    net = lstm()
    tr = lstm_viz.trace(net, torch.randn(30, 3), interventions=[Clamp("forget", 0.0)])
    assert (tr.gate("forget") == 0).all()
    np.testing.assert_allclose(tr.gate("cell"), tr.gate("input") * tr.gate("candidate"), atol=1e-7)


def test_forget_one_and_input_zero_hold_the_cell():
    net = lstm(num_layers=2)
    h0, c0 = torch.randn(2, 6), torch.randn(2, 6)
    clamps = [Clamp("forget", 1.0, layer=1), Clamp("input", 0.0, layer=1)]
    tr = lstm_viz.trace(net, torch.randn(40, 3), state=(h0, c0), interventions=clamps)
    np.testing.assert_allclose(tr.gate("cell", layer=1), np.tile(c0[1].numpy(), (40, 1)), atol=0)
    # h keeps following the output gate over the held cell: h = o * tanh(c0)
    o = tr.gate("output", layer=1)
    np.testing.assert_allclose(tr.gate("hidden", layer=1), o * np.tanh(c0[1].numpy()), atol=1e-6)


def test_ablating_a_unit_changes_nothing_upstream_and_nothing_before():
    net = lstm(num_layers=2)
    x = torch.randn(50, 3)
    base = lstm_viz.trace(net, x)
    steps = range(20, 50)
    ablate = [Clamp(n, 0.0, layer=1, units=[2], steps=steps) for n in ("cell", "hidden")]
    tr = lstm_viz.trace(net, x, interventions=ablate)
    for name in base.names:  # the layer below is upstream: identical
        np.testing.assert_array_equal(tr.gate(name, layer=0), base.gate(name, layer=0))
        np.testing.assert_allclose(
            tr.gate(name, layer=1)[:20], base.gate(name, layer=1)[:20], atol=1e-6
        )
    assert (tr.gate("hidden", layer=1)[20:, 2] == 0).all()
    assert not np.allclose(tr.output[25:], base.output[25:], atol=1e-4)  # and it does matter later


@pytest.mark.parametrize(
    "name,value",
    [
        ("forget", 0.0),
        ("input", 1.0),
        ("candidate", -0.5),
        ("output", 0.2),
        ("cell", 2.0),
        ("hidden", 0.0),
    ],
)
def test_each_clamp_flows_on_like_the_reference(name, value):
    net = lstm(num_layers=2, bidirectional=True)
    x = torch.randn(35, 3)
    units, steps = [1, 4], list(range(10, 20))
    tr = lstm_viz.trace(
        net, x, interventions=[Clamp(name, value, layer=0, units=units, steps=steps)]
    )
    mask = np.zeros((35, 6), bool)
    mask[np.ix_(steps, units)] = True
    clamps = {(name, 0, d): (mask, value) for d in (0, 1)}
    ref, top = reference(net, x.double().numpy(), clamps=clamps)
    for (n, layer, d), values in ref.items():
        np.testing.assert_allclose(
            tr.gate(n, layer, d), values, atol=1e-5, err_msg=f"{n} {layer} {d}"
        )
    np.testing.assert_allclose(tr.output, top, atol=1e-5)
    np.testing.assert_array_equal(tr.clamped(name, 0, 1), mask)
    assert not tr.clamped(name, 1, 0).any()


@pytest.mark.parametrize("name", ["reset", "update", "new", "hidden"])
def test_gru_clamps_match_the_reference(name):
    torch.manual_seed(1)
    gru = torch.nn.GRU(3, 5).eval()
    x = torch.randn(25, 3)
    tr = lstm_viz.trace(gru, x, interventions=[Clamp(name, 0.5, units=[0, 3], steps=range(5, 15))])
    mask = np.zeros((25, 5), bool)
    mask[5:15, [0, 3]] = True
    ref, top = reference(gru, x.double().numpy(), clamps={(name, 0, 0): (mask, 0.5)})
    np.testing.assert_allclose(tr.output, top, atol=1e-5)
    np.testing.assert_allclose(tr.gate("new"), ref[("new", 0, 0)], atol=1e-5)


def test_clamp_on_one_direction_only():
    net = lstm(bidirectional=True)
    tr = lstm_viz.trace(net, torch.randn(12, 3), interventions=[Clamp("forget", 0.0, direction=1)])
    assert (tr.gate("forget", direction=1) == 0).all()
    assert (tr.gate("forget", direction=0) > 0).all()


@pytest.mark.parametrize(
    "net",
    [torch.nn.LSTM(3, 5), torch.nn.LSTM(3, 5, proj_size=2), torch.nn.GRU(3, 4), torch.nn.RNN(3, 4)],
    ids=["lstm", "lstm-proj", "gru", "rnn"],
)
def test_stepwise_path_equals_fast_path_without_clamps(net):
    from lstm_viz.cells import LayerWeights
    from lstm_viz.interventions import ClampPlan
    from lstm_viz.trace import _fast, _stepwise

    kind = type(net).__name__.lower()
    cfg = {"nonlinearity": getattr(net, "nonlinearity", "tanh")}
    w = LayerWeights.of(net, 0, 0)
    xs = torch.randn(2, 40, 3)
    h0 = torch.randn(2, getattr(net, "proj_size", 0) or net.hidden_size)
    c0 = torch.randn(2, net.hidden_size) if kind == "lstm" else None
    with torch.no_grad():
        fast, hf, cf = _fast(kind, cfg, w, xs, h0, c0)
        slow, hs, cs = _stepwise(kind, cfg, w, xs, h0, c0, ClampPlan(40))
    assert fast.keys() == slow.keys()
    for name in fast:
        torch.testing.assert_close(slow[name], fast[name], atol=1e-6, rtol=0)
    torch.testing.assert_close(hs, hf, atol=1e-6, rtol=0)


def test_a_clamp_window_in_the_middle_joins_the_fast_path_seamlessly():
    net = lstm(num_layers=2)
    x = torch.randn(60, 3)
    tr = lstm_viz.trace(net, x, interventions=[Clamp("cell", 0.5, units=[0], steps=[30])])
    mask = np.zeros((60, 6), bool)
    mask[30, 0] = True
    ref, top = reference(net, x.double().numpy(), clamps={("cell", 0, 0): (mask, 0.5)})
    for (n, layer, d), values in ref.items():
        np.testing.assert_allclose(tr.gate(n, layer, d), values, atol=1e-5)


@pytest.mark.parametrize(
    "clamp,match",
    [
        (lambda: Clamp("forget", 1.5), "0..1"),
        (lambda: Clamp("input", -0.1), "0..1"),
        (lambda: Clamp("candidate", 2.0), "-1..1"),
        (lambda: Clamp("cell", float("nan")), "finite"),
        (lambda: Clamp("cell", "zero"), "number"),
    ],
)
def test_bad_clamp_values_are_refused(clamp, match):
    with pytest.raises(ValueError, match=match):
        clamp()


@pytest.mark.parametrize(
    "clamp,match",
    [
        (Clamp("reset", 0.0), "cannot clamp"),
        (Clamp("cell", 0.0, layer=3), "layer 3"),
        (Clamp("cell", 0.0, units=[6]), "units"),
        (Clamp("cell", 0.0, steps=[10]), "steps"),
        (Clamp("cell", 0.0, direction=1), "direction"),
    ],
)
def test_clamps_that_do_not_fit_the_module_are_refused(clamp, match):
    with pytest.raises(ValueError, match=match):
        lstm_viz.trace(lstm(), torch.randn(10, 3), interventions=[clamp])


def test_steps_given_as_a_generator_are_kept():
    c = Clamp("forget", 0.0, steps=(s for s in range(3)))
    tr1 = lstm_viz.trace(lstm(), torch.randn(5, 3), interventions=[c])
    tr2 = lstm_viz.trace(lstm(), torch.randn(5, 3), interventions=[c])
    assert tr1.clamped("forget")[:3].all() and tr2.clamped("forget")[:3].all()
