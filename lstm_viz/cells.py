"""The recurrences, written once, exactly as PyTorch's docs state them.

LSTM (torch.nn.LSTM; gate order in `weight_ih_l{k}` is i, f, g, o = W_ii|W_if|W_ig|W_io):
    i_t = sigmoid(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)      "input"
    f_t = sigmoid(W_if x_t + b_if + W_hf h_{t-1} + b_hf)      "forget"
    g_t = tanh(W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)         "candidate" (input modulation)
    o_t = sigmoid(W_io x_t + b_io + W_ho h_{t-1} + b_ho)      "output"
    c_t = f_t * c_{t-1} + i_t * g_t                           "cell"
    h_t = o_t * tanh(c_t)                                     "hidden" (then W_hr h_t if proj_size)
GRU (order r, z, n):
    r_t = sigmoid(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)      "reset"
    z_t = sigmoid(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)      "update"
    n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn)) "new"
    h_t = (1 - z_t) * n_t + z_t * h_{t-1}                     "hidden"
RNN:
    h_t = tanh or relu(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh) "hidden"

Every function works on any leading shape, so the fast path applies them to a whole sequence at
once and the step path to one step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

LSTM_NAMES = ("input", "forget", "candidate", "output", "cell", "hidden")
GRU_NAMES = ("reset", "update", "new", "hidden")
RNN_NAMES = ("hidden",)
SIGMOID_NAMES = ("input", "forget", "output", "reset", "update")
TANH_NAMES = ("candidate", "new")
# with proj_size, "hidden" is the projected h that flows on; this is o_t * tanh(c_t) before W_hr
UNPROJECTED = "hidden_unprojected"
# each squashing by name, in numpy: what `gate_terms` applies to a summed pre-activation
SQUASH = {
    "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0),
}


@dataclass
class LayerWeights:
    """One layer and direction of a recurrent module, in PyTorch's layout."""

    w_ih: torch.Tensor  # (G*H, input)
    w_hh: torch.Tensor  # (G*H, H or proj_size)
    b_ih: torch.Tensor | None  # (G*H,)
    b_hh: torch.Tensor | None  # (G*H,)
    w_hr: torch.Tensor | None  # (proj_size, H), LSTM with proj_size only

    @classmethod
    def of(cls, module: torch.nn.RNNBase, layer: int, direction: int) -> LayerWeights:
        sfx = f"_l{layer}" + ("_reverse" if direction else "")
        get = lambda name: getattr(module, name + sfx, None)  # noqa: E731
        return cls(
            get("weight_ih"), get("weight_hh"), get("bias_ih"), get("bias_hh"), get("weight_hr")
        )

    def flat(self) -> list[torch.Tensor]:
        """The parameter list the fused kernels (torch.lstm / gru / rnn_*) take."""
        return [w for w in (self.w_ih, self.w_hh, self.b_ih, self.b_hh, self.w_hr) if w is not None]

    def input_part(self, x: torch.Tensor) -> torch.Tensor:
        """W_i* x + b_i*: (..., input) -> (..., G*H)."""
        return torch.nn.functional.linear(x, self.w_ih, self.b_ih)

    def hidden_part(self, h: torch.Tensor) -> torch.Tensor:
        """W_h* h + b_h*: (..., H) -> (..., G*H)."""
        return torch.nn.functional.linear(h, self.w_hh, self.b_hh)

    def by_gate(self, inputs: list[torch.Tensor], use_input: bool, use_hidden: bool):
        """Pre-activations of every step at once, gate-major: (G, B, T, H), each gate contiguous.

        inputs are (B, T, K) tensors (x, and/or h_{t-1}) for the chosen weight halves; one batched
        matrix product does them all, and gate-major output keeps every later elementwise op on
        contiguous memory (on column slices of a (T, 4H) array they run several times slower).
        """
        weights = [w for w, use in ((self.w_ih, use_input), (self.w_hh, use_hidden)) if use]
        biases = [b for b, use in ((self.b_ih, use_input), (self.b_hh, use_hidden)) if use]
        w = torch.cat(weights, dim=1) if len(weights) > 1 else weights[0]  # (G*H, K)
        rows = w.shape[0]
        gates = rows // (self.w_hh.shape[1] if self.w_hr is None else self.w_hr.shape[1])
        hidden = rows // gates
        x = torch.cat(inputs, dim=-1) if len(inputs) > 1 else inputs[0]
        b, t, k = x.shape
        w = w.view(gates, hidden, k).transpose(1, 2)  # (G, K, H)
        flat = x.reshape(1, b * t, k).expand(gates, b * t, k)
        if biases[0] is None:
            z = torch.bmm(flat, w)
        else:
            z = torch.baddbmm(sum(biases).view(gates, 1, hidden), flat, w)
        return z.view(gates, b, t, hidden)


def lstm_gates(zi, zf, zg, zo) -> tuple[torch.Tensor, ...]:
    """(input, forget, candidate, output) from the summed pre-activations of each gate."""
    return torch.sigmoid(zi), torch.sigmoid(zf), torch.tanh(zg), torch.sigmoid(zo)


def lstm_cell(forget, cell_prev, input_, candidate):
    """c_t = f_t * c_{t-1} + i_t * g_t."""
    return forget * cell_prev + input_ * candidate


def lstm_hidden(output, cell):
    """h_t = o_t * tanh(c_t) (before the projection, if any)."""
    return output * torch.tanh(cell)


def gru_gates(zx, zh, reset=None) -> tuple[torch.Tensor, ...]:
    """(reset, update, new) from the input parts zx = (xr, xz, xn) and hidden parts zh.

    `reset` replaces r_t (a clamp) before n_t is computed from it.
    """
    xr, xz, xn = zx
    hr, hz, hn = zh
    if reset is None:
        reset = torch.sigmoid(xr + hr)
    return reset, torch.sigmoid(xz + hz), torch.tanh(xn + reset * hn)


def gru_hidden(update, new, hidden_prev):
    """h_t = (1 - z_t) * n_t + z_t * h_{t-1}."""
    return (1 - update) * new + update * hidden_prev


def rnn_hidden(z: torch.Tensor, nonlinearity: str) -> torch.Tensor:
    """h_t = tanh or relu of the summed pre-activation."""
    return torch.tanh(z) if nonlinearity == "tanh" else torch.relu(z)


def linear_scan(decay: np.ndarray, drive: np.ndarray, start: np.ndarray) -> np.ndarray:
    """y_t = decay_t * y_{t-1} + drive_t over axis 0, from y_{-1} = start.

    decay, drive: (T, N); start: (N,) -> (T, N). This is `lstm_cell` run over time, done in
    chunks: a per-step loop costs T Python iterations; this costs about 2 * sqrt(T) vectorised
    ones. Within a chunk, y = local + gain * y_before_chunk, where local is the scan from zero and
    gain the running product of decays: the recurrence unrolled (forget gates lie in (0, 1), so
    the products cannot overflow).
    """
    t, n = drive.shape
    k = max(1, int(t**0.5))  # chunk length
    m = -(-t // k)  # chunks
    pad = m * k - t
    if pad:  # decay 1, drive 0: padded steps change nothing and are cut off below
        decay = np.concatenate([decay, np.ones((pad, n), decay.dtype)])
        drive = np.concatenate([drive, np.zeros((pad, n), drive.dtype)])
    # (position in chunk, chunk, N): row j holds step j of every chunk, contiguous
    dec = decay.reshape(m, k, n).transpose(1, 0, 2)
    local = np.ascontiguousarray(drive.reshape(m, k, n).transpose(1, 0, 2))
    gain = np.empty_like(local)
    gain[0] = dec[0]
    for j in range(1, k):  # all chunks advance together
        local[j] += dec[j] * local[j - 1]
        np.multiply(gain[j - 1], dec[j], out=gain[j])
    before = np.empty((m, n), drive.dtype)  # y just before each chunk
    y = np.asarray(start, drive.dtype)
    for c in range(m):  # carry across chunk boundaries
        before[c] = y
        y = gain[-1, c] * y + local[-1, c]
    local += gain * before[None]
    return local.transpose(1, 0, 2).reshape(m * k, n)[:t]
