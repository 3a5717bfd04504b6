"""Padded batches of sequences and their hidden (and cell) states, by the cheapest exact path.

`corpus_trace` keeps only hidden and cell of every step. `lstm_viz.trace` would recover every
gate too, which costs about 3x a forward pass on a wide batch, so the common cores take a lean
path here (the tests hold it to `lstm_viz.trace` on each sequence alone):
- GRU / RNN: hidden is what the module's fused kernel returns, layer by layer;
- LSTM: the recurrence of `lstm_viz.cells` one step at a time over the whole batch (the fused
  kernel keeps only the last cell), in ten torch calls a step; a wide batch makes that Python cost
  small next to the arithmetic;
- anything else (bidirectional, proj_size): the full `trace`.
A token model whose input depends on the token alone is read from its ids: layer 0's input
product is made once per vocabulary entry and looked up per step (for the shipped cue model,
2,934 products instead of one for each of its corpus's 234,751 steps).
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

import numpy as np
import torch
from torch import nn

from lstm_viz.cells import LayerWeights
from lstm_viz.trace import _kernel, trace

STORED = {"lstm": ("hidden", "cell"), "gru": ("hidden",), "rnn": ("hidden",)}  # what is kept


def batch_states(core, kind, cfg, x, tokens=None) -> dict[str, torch.Tensor]:
    """{name: (L, D, W, B, U)}, steps before batch, for one batch x in the module's own layout
    (from zero state).

    tokens: (ids (B, W), table (V, F)) for a token model whose input at a step depends on its
    token alone (table[id] is what x holds there); the LSTM path then looks up layer 0's input
    product per token, one product per vocabulary entry instead of one per step. x may be None.
    """
    lean = not (cfg["bidirectional"] or cfg["proj_size"])
    if tokens is not None and not (lean and kind == "lstm"):
        ids, table = tokens
        x = table[ids] if cfg["batch_first"] else table[ids].transpose(0, 1)
        tokens = None
    if not lean:
        tr = trace(core, x)
        return {k: torch.tensor(tr.states[k]).transpose(2, 3) for k in STORED[kind]}  # a copy
    if tokens is not None:
        xs = tokens[0].T  # (T, B) ids
    else:
        xs = x if not cfg["batch_first"] else x.transpose(0, 1)  # (T, B, F): steps outermost
    t, b = xs.shape[:2]
    layers, h = cfg["num_layers"], cfg["hidden_size"]
    dtype = core.weight_ih_l0.dtype
    out = {k: torch.empty(layers, 1, t, b, h, dtype=dtype) for k in STORED[kind]}
    layer_in = xs.contiguous()
    with torch.no_grad():
        for layer in range(layers):
            w = LayerWeights.of(core, layer, 0)
            hidden = out["hidden"][layer, 0]
            if kind == "lstm":
                table = tokens[1] if tokens is not None and layer == 0 else None
                _lstm_steps(w, layer_in, hidden, out["cell"][layer, 0], table)
            else:
                h0 = torch.zeros(b, h, dtype=dtype)  # the kernel reads (B, T, F)
                hidden.copy_(
                    _kernel(kind, cfg, w, layer_in.transpose(0, 1), h0, None)[0].transpose(0, 1)
                )
            layer_in = hidden
    return out


def _lstm_steps(w: LayerWeights, xs, hs: torch.Tensor, cs: torch.Tensor, table=None) -> None:
    """One LSTM layer from zero state, step by step: writes hs, cs (T, B, H) for xs (T, B, F),
    or for token ids xs (T, B) whose inputs are the rows of `table` (V, F).

    The equations of `cells` (c_t = f_t * c_{t-1} + i_t * g_t, h_t = o_t * tanh(c_t)) in as few
    torch calls as possible, since on a small core each call's overhead outweighs its arithmetic,
    and torch's CPU tanh is several times slower than its sigmoid. So tanh(x) is computed as
    2 * sigmoid(2x) - 1 (an identity; within ~1e-7 of tanh): the weight rows are reordered
    i, f, o, g and the g rows doubled (exact in floating point), one sigmoid then covers all four
    gates, and c and h are written straight into the output.
    """
    hid = hs.shape[-1]
    order = torch.cat(
        [torch.arange(0, 2 * hid), torch.arange(3 * hid, 4 * hid), torch.arange(2 * hid, 3 * hid)]
    )  # i, f, g, o -> i, f, o, g
    scale = torch.ones(4 * hid, 1, dtype=hs.dtype)
    scale[3 * hid :] = 2.0  # g rows: sigmoid(2 z_g) gives tanh(z_g) below
    w_ih, w_hh_t = w.w_ih[order] * scale, (w.w_hh[order] * scale).T.contiguous()
    bias = None if w.b_ih is None else (w.b_ih + w.b_hh)[order] * scale[:, 0]  # LSTMs sum them
    h = c = torch.zeros(hs.shape[1:], dtype=hs.dtype)
    minus_one = torch.full(hs.shape[1:], -1.0, dtype=hs.dtype)
    z = torch.empty(hs.shape[1], 4 * hid, dtype=hs.dtype)  # (B, 4H), reused every step
    i, f, o, g = z.split(hid, dim=1)
    tanh_c, kept = torch.empty_like(minus_one), torch.empty_like(minus_one)

    def update(s: int) -> None:  # z holds step s's pre-activations; writes c_s, h_s
        nonlocal h, c
        torch.sigmoid(z, out=z)
        torch.add(minus_one, g, alpha=2, out=g)  # tanh(z_g)
        c = torch.addcmul(torch.mul(f, c, out=kept), i, g, out=cs[s])  # f * c_{t-1} + i * g
        torch.sigmoid(torch.mul(c, 2, out=tanh_c), out=tanh_c)
        torch.add(minus_one, tanh_c, alpha=2, out=tanh_c)  # tanh(c_t)
        h = torch.mul(o, tanh_c, out=hs[s])  # o * tanh(c_t)

    if table is not None:  # the input product made once per vocabulary entry: a lookup per step
        per_token = nn.functional.linear(table, w_ih, bias)  # (V, 4H)
        for s in range(xs.shape[0]):
            torch.index_select(per_token, 0, xs[s], out=z).addmm_(h, w_hh_t)
            update(s)
        return
    for lo in range(0, xs.shape[0], _CHUNK):
        zx = nn.functional.linear(xs[lo : lo + _CHUNK], w_ih, bias)  # (chunk, B, 4H)
        for s in range(zx.shape[0]):
            torch.addmm(zx[s], h, w_hh_t, out=z)
            update(lo + s)


_CHUNK = 64  # steps whose input half is computed at once: bounded memory, one big product


def batches(lengths: np.ndarray, size: int, equal_lengths: bool) -> list[np.ndarray]:
    """Sequence indices, longest first, in groups of <= size (one length per group if asked)."""
    order = np.argsort(-lengths, kind="stable")
    groups = []
    start = 0
    while start < len(order):
        stop = min(start + size, len(order))
        if equal_lengths:  # cut where the length changes: no padding at all
            same = lengths[order[start:stop]] == lengths[order[start]]
            stop = start + int(np.argmin(same)) if not same.all() else stop
        groups.append(order[start:stop])
        start = stop
    return groups


def _pad(seqs: list[np.ndarray], width: int) -> np.ndarray:
    """(B, width[, F]) with zeros after each sequence's end (id 0 for tokens: any valid id)."""
    out = np.zeros((len(seqs), width, *seqs[0].shape[1:]), seqs[0].dtype)
    for j, s in enumerate(seqs):
        out[j, : len(s)] = s
    return out


def trace_batch(core, kind, cfg, encode, seqs, batch, lengths, offsets, out, tdtype, table=None):
    """Trace one padded batch and copy its real steps into the flat `out` arrays.

    table: (V, F) core inputs of every token, for a token model whose input depends on the token
    alone (`batch_states` then reads the ids, not an encoded batch)."""
    width = int(lengths[batch].max())
    padded = _pad([seqs[i] for i in batch], width)
    if table is not None:
        states = batch_states(core, kind, cfg, None, (torch.from_numpy(padded), table))
    else:
        x = encode(padded)  # (B, W, core input)
        if not cfg["batch_first"]:
            x = x.transpose(0, 1)  # the module's own layout, as `trace` reads it
        states = batch_states(core, kind, cfg, x)  # {name: (L, D, W, B, U)}
    # every real step from its (step, row) place to its flat row: a gather and a scatter of rows
    n = lengths[batch]
    step = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)  # 0..n_j - 1 for each row j
    src = torch.from_numpy(step * len(batch) + np.repeat(np.arange(len(batch)), n))
    dst = torch.from_numpy(np.repeat(offsets[batch], n) + step)
    for name, arr in states.items():
        flat = arr.reshape(*arr.shape[:2], -1, arr.shape[-1])
        for layer, direction in np.ndindex(*arr.shape[:2]):  # 2-D row copies: the fast kind
            rows = flat[layer, direction].index_select(0, src).to(tdtype)
            out[name][layer, direction].index_copy_(0, dst, rows)


_THREADS = threading.Lock()


@contextmanager
def torch_threads(n: int | None):
    """torch.set_num_threads(n) for the block, restored after (n None: no change)."""
    if n is None:
        yield
        return
    with _THREADS:
        before = torch.get_num_threads()
        torch.set_num_threads(n)
        try:
            yield
        finally:
            torch.set_num_threads(before)
