"""The trace API as documented: save/load round trip, labels, and clear errors for bad input."""

import numpy as np
import pytest
import torch

import lstm_viz


def lstm(**kw):
    torch.manual_seed(0)
    return torch.nn.LSTM(**{"input_size": 3, "hidden_size": 8, **kw}).eval()


def test_readme_example_runs():
    net = torch.nn.LSTM(input_size=3, hidden_size=8, num_layers=2)
    x = torch.randn(50, 3)
    tr = lstm_viz.trace(net, x)
    assert tr.gate("forget", layer=0).shape == (50, 8)
    with torch.no_grad():
        out, (h_n, c_n) = net(x)
    np.testing.assert_allclose(tr.output, out.numpy(), atol=1e-6)
    assert tr.final_state[0].shape == tuple(h_n.shape)


@pytest.mark.parametrize(
    "module,x",
    [
        (lstm(num_layers=2, bidirectional=True, proj_size=3), torch.randn(12, 3)),
        (lstm(batch_first=True), torch.randn(2, 9, 3)),
        (torch.nn.GRU(3, 4), torch.randn(7, 3)),
    ],
)
def test_save_and_load_round_trip_exactly(tmp_path, module, x):
    labels = [f"tok{i}" for i in range(x.shape[-2])]
    clamp = [lstm_viz.Clamp("hidden", 0.0, units=[1], steps=[2])]
    tr = lstm_viz.trace(module, x, labels=labels, interventions=clamp)
    tr.save(tmp_path / "t.npz")
    back = lstm_viz.LSTMTrace.load(tmp_path / "t.npz")
    assert back.labels == labels and back.config == tr.config and back.kind == tr.kind
    assert back.batched == tr.batched and back.names == tr.names
    for name in tr.names:
        np.testing.assert_array_equal(back.states[name], tr.states[name])
    np.testing.assert_array_equal(back.clamped("hidden"), tr.clamped("hidden"))
    np.testing.assert_array_equal(back.output, tr.output)
    pair = lambda s: s if isinstance(s, tuple) else (s,)  # noqa: E731
    for a, b in zip(pair(back.final_state), pair(tr.final_state), strict=True):
        np.testing.assert_array_equal(a, b)


def test_load_refuses_other_files(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a saved lstm_viz trace"):
        lstm_viz.LSTMTrace.load(bad)
    pickled = tmp_path / "obj.npz"
    np.savez(pickled, meta=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError):
        lstm_viz.LSTMTrace.load(pickled)


def test_trace_arrays_are_read_only():
    tr = lstm_viz.trace(lstm(), torch.randn(5, 3))
    with pytest.raises(ValueError):
        tr.gate("cell")[0, 0] = 1.0


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: lstm_viz.trace(lstm(), torch.randn(10, 4)), "4 features"),
        (lambda: lstm_viz.trace(lstm(), torch.randn(0, 3)), "0 steps"),
        (lambda: lstm_viz.trace(lstm(), torch.tensor([[1.0, float("nan"), 0.0]])), "NaN"),
        (lambda: lstm_viz.trace(lstm(), torch.tensor([[1.0, float("inf"), 0.0]])), "NaN or inf"),
        (lambda: lstm_viz.trace(lstm(), torch.randn(3)), "shape"),
        (lambda: lstm_viz.trace(torch.nn.Linear(3, 3), torch.randn(4, 3)), "LSTM, GRU or RNN"),
        (lambda: lstm_viz.trace(lstm(), [["a", "b", "c"]]), "numeric"),
        (lambda: lstm_viz.trace(lstm(), torch.randn(4, 3), labels=["a"]), "one label per step"),
        (lambda: lstm_viz.trace(lstm(), torch.randn(4, 3), state=torch.zeros(1, 8)), "pair"),
        (
            lambda: lstm_viz.trace(lstm(), torch.randn(4, 3), state=(torch.zeros(2, 8),) * 2),
            "shape",
        ),
    ],
)
def test_bad_input_raises_value_error_with_a_hint(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda tr: tr.gate("forgets"), "unknown name"),
        (lambda tr: tr.gate("forget", layer=2), "layer 2"),
        (lambda tr: tr.gate("forget", direction=1), "not bidirectional"),
        (lambda tr: lstm_viz.retention(tr, 0, 99), "step 99"),
    ],
)
def test_bad_queries_raise_value_error(call, match):
    tr = lstm_viz.trace(lstm(), torch.randn(6, 3))
    with pytest.raises(ValueError, match=match):
        call(tr)


def test_same_input_gives_identical_traces():
    net, x = lstm(num_layers=2), torch.randn(40, 3)
    a, b = lstm_viz.trace(net, x), lstm_viz.trace(net, x)
    for name in a.names:
        assert a.states[name].tobytes() == b.states[name].tobytes()
