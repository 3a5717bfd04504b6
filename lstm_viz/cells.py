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

import torch

LSTM_NAMES = ("input", "forget", "candidate", "output", "cell", "hidden")
GRU_NAMES = ("reset", "update", "new", "hidden")
RNN_NAMES = ("hidden",)
SIGMOID_NAMES = ("input", "forget", "output", "reset", "update")
TANH_NAMES = ("candidate", "new")
# with proj_size, "hidden" is the projected h that flows on; this is o_t * tanh(c_t) before W_hr
UNPROJECTED = "hidden_unprojected"


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
        """W_i* x + b_i* for every step at once: (..., input) -> (..., G*H)."""
        z = x @ self.w_ih.T
        return z if self.b_ih is None else z + self.b_ih

    def hidden_part(self, h: torch.Tensor) -> torch.Tensor:
        """W_h* h + b_h*: (..., H) -> (..., G*H)."""
        z = h @ self.w_hh.T
        return z if self.b_hh is None else z + self.b_hh


def lstm_gates(z: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """(input, forget, candidate, output) from the summed pre-activations z (..., 4H)."""
    zi, zf, zg, zo = z.chunk(4, dim=-1)
    return torch.sigmoid(zi), torch.sigmoid(zf), torch.tanh(zg), torch.sigmoid(zo)


def lstm_cell(forget, cell_prev, input_, candidate):
    """c_t = f_t * c_{t-1} + i_t * g_t."""
    return forget * cell_prev + input_ * candidate


def lstm_hidden(output, cell):
    """h_t = o_t * tanh(c_t) (before the projection, if any)."""
    return output * torch.tanh(cell)


def gru_gates(zx: torch.Tensor, zh: torch.Tensor, reset=None) -> tuple[torch.Tensor, ...]:
    """(reset, update, new) from the input part zx and hidden part zh, each (..., 3H).

    `reset` replaces r_t (a clamp) before n_t is computed from it.
    """
    xr, xz, xn = zx.chunk(3, dim=-1)
    hr, hz, hn = zh.chunk(3, dim=-1)
    if reset is None:
        reset = torch.sigmoid(xr + hr)
    return reset, torch.sigmoid(xz + hz), torch.tanh(xn + reset * hn)


def gru_hidden(update, new, hidden_prev):
    """h_t = (1 - z_t) * n_t + z_t * h_{t-1}."""
    return (1 - update) * new + update * hidden_prev


def rnn_hidden(z: torch.Tensor, nonlinearity: str) -> torch.Tensor:
    """h_t = tanh or relu of the summed pre-activation."""
    return torch.tanh(z) if nonlinearity == "tanh" else torch.relu(z)


def linear_scan(decay: torch.Tensor, drive: torch.Tensor, start: torch.Tensor) -> torch.Tensor:
    """y_t = decay_t * y_{t-1} + drive_t over axis 1, from y_{-1} = start.

    decay, drive: (B, T, H); start: (B, H) -> (B, T, H). This is `lstm_cell` run over time, done
    in chunks: T steps of a per-step loop cost ~T Python iterations; here ~2*sqrt(T) vectorised
    ones. Within a chunk, y = local + cumprod(decay) * y_at_chunk_start, exactly the recurrence
    unrolled (forget gates lie in (0, 1), so the products cannot overflow).
    """
    b, t, h = drive.shape
    k = max(1, int(t**0.5))
    n = -(-t // k)
    pad = n * k - t
    if pad:  # pad with decay 1, drive 0: the padded steps change nothing and are cut off below
        decay = torch.cat([decay, decay.new_ones(b, pad, h)], 1)
        drive = torch.cat([drive, drive.new_zeros(b, pad, h)], 1)
    decay = decay.reshape(b, n, k, h)
    local = drive.reshape(b, n, k, h).clone()
    for j in range(1, k):  # scan inside every chunk at once, from a zero start
        local[:, :, j] += decay[:, :, j] * local[:, :, j - 1]
    gain = torch.cumprod(decay, dim=2)  # (B, n, k, H): product of decays since the chunk began
    starts = drive.new_empty(b, n, h)
    y = start
    for m in range(n):  # carry the state across chunk boundaries
        starts[:, m] = y
        y = gain[:, m, -1] * y + local[:, m, -1]
    out = local + gain * starts[:, :, None]
    return out.reshape(b, n * k, h)[:, :t]
