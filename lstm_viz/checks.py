"""Checks and normalisation of what `lstm_viz.trace` is given: module, input, initial state.

Everything a user can get wrong is caught here with a ValueError that names the fix, before any
computation starts.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from lstm_viz import cells


def module_kind(module) -> str:
    if isinstance(module, nn.LSTM):
        return "lstm"
    if isinstance(module, nn.GRU):
        return "gru"
    if isinstance(module, nn.RNN):
        return "rnn"
    raise ValueError(
        f"lstm_viz.trace takes a torch.nn.LSTM, GRU or RNN, got {type(module).__name__}; "
        "for a model that wraps one, pass its recurrent submodule (e.g. model.core)"
    )


def module_config(module, kind) -> dict:
    return {
        "kind": kind,
        "input_size": module.input_size,
        "hidden_size": module.hidden_size,
        "num_layers": module.num_layers,
        "bias": module.bias,
        "batch_first": module.batch_first,
        "bidirectional": module.bidirectional,
        "proj_size": getattr(module, "proj_size", 0),
        "nonlinearity": getattr(module, "nonlinearity", "tanh"),
        "dtype": str(module.weight_ih_l0.dtype).removeprefix("torch."),
    }


def traced_names(kind, cfg) -> list[str]:
    if kind == "lstm":
        return list(cells.LSTM_NAMES) + ([cells.UNPROJECTED] if cfg["proj_size"] else [])
    return list(cells.GRU_NAMES if kind == "gru" else cells.RNN_NAMES)


def as_batch(module, x) -> tuple[torch.Tensor, bool]:
    """x as a (B, T, F) tensor in the module's dtype, and whether it was batched."""
    dtype = module.weight_ih_l0.dtype
    try:
        x = torch.as_tensor(np.asarray(x) if not torch.is_tensor(x) else x)
    except (TypeError, ValueError) as err:
        raise ValueError(f"input must be a numeric array or tensor ({err})") from None
    if not (x.is_floating_point() or x.dtype in (torch.int32, torch.int64)):
        raise ValueError(f"input must be numeric, got {x.dtype}; token models embed ids first")
    x = x.detach().to(dtype)
    if x.dim() not in (2, 3):
        raise ValueError(
            f"input must be (T, {module.input_size}) or a 3-D batch, got shape {tuple(x.shape)}"
        )
    batched = x.dim() == 3
    if batched and not module.batch_first:
        x = x.transpose(0, 1)
    elif not batched:
        x = x[None]
    if x.shape[-1] != module.input_size:
        raise ValueError(
            f"input has {x.shape[-1]} features per step but the module expects "
            f"{module.input_size}; reshape it to (T, {module.input_size})"
        )
    if x.shape[1] == 0:
        raise ValueError("input has 0 steps; give at least one step")
    if not torch.isfinite(x).all():
        raise ValueError("input contains NaN or inf; clean or fill those values first")
    return x.contiguous(), batched


def initial_state(module, kind, state, b, batched, dtype):
    """(h0, c0) as (L*D, B, H) tensors; c0 is None for GRU / RNN."""
    n = module.num_layers * (2 if module.bidirectional else 1)
    h_size = getattr(module, "proj_size", 0) or module.hidden_size
    if state is None:
        h0 = torch.zeros(n, b, h_size, dtype=dtype)
        return h0, torch.zeros(n, b, module.hidden_size, dtype=dtype) if kind == "lstm" else None
    parts = state if kind == "lstm" else (state,)
    if kind == "lstm" and (not isinstance(state, (tuple, list)) or len(state) != 2):
        raise ValueError("an LSTM's state is a pair (h0, c0); pass state=(h0, c0)")
    sizes = (h_size, module.hidden_size)
    out = []
    for part, size, label in zip(parts, sizes, ("h0", "c0"), strict=False):
        p = torch.as_tensor(np.asarray(part) if not torch.is_tensor(part) else part).to(dtype)
        p = p if batched else p[:, None]
        if tuple(p.shape) != (n, b, size):
            want = (n, b, size) if batched else (n, size)
            raise ValueError(f"{label} has shape {tuple(p.shape)}; expected {want}")
        if not torch.isfinite(p).all():
            raise ValueError(f"{label} contains NaN or inf")
        out.append(p)
    return out[0], (out[1] if kind == "lstm" else None)


def whole_number(value, what: str) -> int:
    """`value` as an int if it is a whole number (int or numpy integer, not bool), else a
    ValueError: a float or a string here is a mistake that indexing would hide or crash on."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{what} must be a whole number, got {value!r}; e.g. {what}=0")
    return int(value)
