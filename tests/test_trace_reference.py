"""Reference equivalence: lstm_viz.trace against torch's own modules and a float64 numpy loop."""

import numpy as np
import pytest
import torch
from reference import reference

import lstm_viz

LSTM_GRID = [
    dict(input_size=3, hidden_size=8),
    dict(input_size=1, hidden_size=1),
    dict(input_size=5, hidden_size=13, num_layers=3),
    dict(input_size=4, hidden_size=7, bidirectional=True),
    dict(input_size=4, hidden_size=6, num_layers=2, bidirectional=True),
    dict(input_size=3, hidden_size=9, proj_size=4),
    dict(input_size=3, hidden_size=9, proj_size=2, num_layers=2, bidirectional=True),
    dict(input_size=3, hidden_size=5, bias=False),
    dict(input_size=3, hidden_size=5, num_layers=2, batch_first=True),
]


def make(cls, dtype=torch.float32, seed=0, **kw):
    torch.manual_seed(seed)
    return cls(**kw).to(dtype).eval()


def assert_matches_reference(module, x, tol, h0=None, c0=None, clamps=None, tr=None):
    tr = tr or lstm_viz.trace(module, x)
    ref, top = reference(module, x.double().numpy(), h0, c0, clamps)
    for (name, layer, d), values in ref.items():
        got = tr.gate(name, layer, d)
        np.testing.assert_allclose(got, values, atol=tol, rtol=0, err_msg=f"{name} l{layer} d{d}")
    return tr


@pytest.mark.parametrize("kw", LSTM_GRID, ids=str)
def test_lstm_gates_match_float64_reference(kw):
    lstm = make(torch.nn.LSTM, **kw)
    assert_matches_reference(lstm, torch.randn(37, kw["input_size"]), tol=1e-5)


@pytest.mark.parametrize("kw", LSTM_GRID, ids=str)
@pytest.mark.parametrize("dtype,tol", [(torch.float32, 1e-6), (torch.float64, 1e-12)])
def test_output_and_final_state_equal_module_forward(kw, dtype, tol):
    lstm = make(torch.nn.LSTM, dtype=dtype, **kw)
    x = torch.randn(41, kw["input_size"], dtype=dtype)
    tr = lstm_viz.trace(lstm, x)
    with torch.no_grad():
        out, (h_n, c_n) = lstm(x)
    assert tr.output.dtype == (np.float64 if dtype == torch.float64 else np.float32)
    np.testing.assert_allclose(tr.output, out.numpy(), atol=tol, rtol=0)
    np.testing.assert_allclose(tr.final_state[0], h_n.numpy(), atol=tol, rtol=0)
    np.testing.assert_allclose(tr.final_state[1], c_n.numpy(), atol=tol, rtol=0)


def test_float64_gates_match_reference_tightly():
    lstm = make(torch.nn.LSTM, dtype=torch.float64, input_size=3, hidden_size=8, num_layers=2)
    assert_matches_reference(lstm, torch.randn(60, 3, dtype=torch.float64), tol=1e-12)


def test_projection_exposes_unprojected_hidden():
    lstm = make(torch.nn.LSTM, input_size=3, hidden_size=9, proj_size=4)
    tr = lstm_viz.trace(lstm, torch.randn(20, 3))
    assert tr.gate("hidden").shape == (20, 4)
    assert tr.gate("hidden_unprojected").shape == (20, 9)
    w_hr = lstm.weight_hr_l0.detach().numpy()
    np.testing.assert_allclose(tr.gate("hidden_unprojected") @ w_hr.T, tr.gate("hidden"), atol=1e-6)


@pytest.mark.parametrize("batch_first", [False, True])
def test_batch_and_initial_state(batch_first):
    lstm = make(torch.nn.LSTM, input_size=3, hidden_size=6, num_layers=2, batch_first=batch_first)
    b, t = 4, 15
    x = torch.randn(b, t, 3) if batch_first else torch.randn(t, b, 3)
    h0, c0 = torch.randn(2, b, 6), torch.randn(2, b, 6)
    tr = lstm_viz.trace(lstm, x, state=(h0, c0))
    with torch.no_grad():
        out, (h_n, c_n) = lstm(x, (h0, c0))
    np.testing.assert_allclose(tr.output, out.numpy(), atol=1e-6)
    np.testing.assert_allclose(tr.final_state[1], c_n.numpy(), atol=1e-6)
    assert tr.gate("forget", layer=1).shape == (b, t, 6)
    seq = 2  # every sequence of the batch matches its own reference from its own state
    xs = x[seq] if batch_first else x[:, seq]
    ref, _ = reference(lstm, xs.double().numpy(), h0[:, seq].numpy(), c0[:, seq].numpy())
    np.testing.assert_allclose(tr.gate("cell", layer=1)[seq], ref[("cell", 1, 0)], atol=1e-5)


@pytest.mark.parametrize(
    "kw",
    [
        dict(input_size=3, hidden_size=8),
        dict(input_size=2, hidden_size=5, num_layers=2, bidirectional=True),
        dict(input_size=3, hidden_size=4, bias=False),
    ],
    ids=str,
)
@pytest.mark.parametrize("cls", [torch.nn.GRU, torch.nn.RNN])
def test_gru_and_rnn_match_module_and_reference(cls, kw):
    module = make(cls, **kw)
    x = torch.randn(30, kw["input_size"])
    tr = assert_matches_reference(module, x, tol=1e-5)
    with torch.no_grad():
        out, h_n = module(x)
    np.testing.assert_allclose(tr.output, out.numpy(), atol=1e-6)
    np.testing.assert_allclose(tr.final_state, h_n.numpy(), atol=1e-6)
    assert tr.names == (["reset", "update", "new", "hidden"] if cls is torch.nn.GRU else ["hidden"])


def test_relu_rnn():
    rnn = make(torch.nn.RNN, input_size=3, hidden_size=6, nonlinearity="relu")
    tr = assert_matches_reference(rnn, torch.randn(25, 3), tol=1e-5)
    assert (tr.gate("hidden") >= 0).all()


def test_long_sequence_cell_scan_stays_exact():
    # thousands of steps exercise the chunked scan across many chunk boundaries
    lstm = make(torch.nn.LSTM, input_size=2, hidden_size=5)
    assert_matches_reference(lstm, torch.randn(2003, 2), tol=1e-5)


def test_training_mode_with_dropout_warns_and_traces_as_eval():
    lstm = make(torch.nn.LSTM, input_size=3, hidden_size=4, num_layers=2, dropout=0.5).train()
    x = torch.randn(10, 3)
    with pytest.warns(UserWarning, match="eval mode"):
        tr = lstm_viz.trace(lstm, x)
    with torch.no_grad():
        expected = lstm.eval()(x)[0]
    np.testing.assert_allclose(tr.output, expected.numpy(), atol=1e-6)


def test_trace_arrays_of_a_long_wide_trace_stay_under_300_mb():
    lstm = make(torch.nn.LSTM, input_size=16, hidden_size=256, num_layers=2)
    tr = lstm_viz.trace(lstm, torch.randn(10_000, 16))
    size = sum(a.nbytes for a in tr.states.values()) + tr.output.nbytes
    assert size < 300e6
