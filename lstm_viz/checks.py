"""Checks and normalisation of what `lstm_viz.trace` is given: module, input, initial state.

Everything a user can get wrong is caught here with a ValueError that names the fix, before any
computation starts.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from lstm_viz import cells
from lstm_viz.limits import whole_number  # noqa: F401  (imported from here across the engine)


def module_kind(module) -> str:
    """ "lstm", "gru" or "rnn" for a module the trace reproduces exactly, else a ValueError."""
    if isinstance(module, nn.LSTM):
        kind, base = "lstm", nn.LSTM
    elif isinstance(module, nn.GRU):
        kind, base = "gru", nn.GRU
    elif isinstance(module, nn.RNN):
        kind, base = "rnn", nn.RNN
    else:
        raise ValueError(
            f"lstm_viz.trace takes a torch.nn.LSTM, GRU or RNN, got {type(module).__name__}; "
            "for a model that wraps one, pass its recurrent submodule (e.g. model.core)"
        )
    _check_faithful(module, base)
    return kind


def _check_faithful(module, base) -> None:
    """The trace recomputes torch's own equations: a subclass's own `forward` or a hook that
    changes inputs or outputs would make module(x) differ from the trace with no word."""
    inner = f"pass the inner torch.nn.{base.__name__} itself"
    if type(module).forward is not base.forward:
        raise ValueError(
            f"{type(module).__name__} overrides forward(), so its output is not the plain "
            f"{base.__name__}'s the trace computes; {inner} (whole models: lstm_viz.trace_model)"
        )
    from torch.nn.modules import module as torch_module

    hooks = {
        "forward hook": module._forward_hooks,
        "forward pre-hook": module._forward_pre_hooks,
        "global forward hook": torch_module._global_forward_hooks,
        "global forward pre-hook": torch_module._global_forward_pre_hooks,
    }
    found = [name for name, registered in hooks.items() if registered]
    if found:
        raise ValueError(
            f"the module has a {found[0]} registered, which the trace would not run; remove it "
            f"(handle.remove()) or {inner} without hooks"
        )
    params = list(module.parameters())
    if any(p.device.type != "cpu" for p in params):
        raise ValueError("the module's weights are not on the CPU; pass module.cpu()")
    if any(not p.is_floating_point() or p.is_complex() for p in params):
        raise ValueError("the module's weights must be real floats; pass module.float()")


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
    x = as_tensor(x, "input")
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
    if x.shape[0] == 0:
        raise ValueError("the batch holds 0 sequences; give at least one")
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
        p = as_tensor(part, label)
        if not (p.is_floating_point() or p.dtype in (torch.int32, torch.int64)):
            raise ValueError(f"{label} must hold real numbers, got {p.dtype}")
        p = p.to(dtype)
        p = p if batched else p[:, None]
        if tuple(p.shape) != (n, b, size):
            want = (n, b, size) if batched else (n, size)
            raise ValueError(f"{label} has shape {tuple(p.shape)}; expected {want}")
        if not torch.isfinite(p).all():
            raise ValueError(f"{label} contains NaN or inf")
        out.append(p)
    return out[0], (out[1] if kind == "lstm" else None)


def as_tensor(x, what: str) -> torch.Tensor:
    """x (array, tensor or nested lists) as a dense CPU tensor, else a ValueError."""
    try:
        t = x if torch.is_tensor(x) else torch.as_tensor(np.asarray(x))
    except (TypeError, ValueError, RuntimeError, OverflowError) as err:
        raise ValueError(f"{what} must be a numeric array or tensor ({err})") from None
    if t.device.type != "cpu":
        raise ValueError(f"{what} is on {t.device.type}; pass it on the CPU (x.cpu())")
    if t.layout != torch.strided:
        raise ValueError(f"{what} is a {t.layout} tensor; pass a dense one (x.to_dense())")
    return t.detach()


def check_labels(labels, t: int) -> list[str] | None:
    """One string per step, or None."""
    if labels is None:
        return None
    if isinstance(labels, (str, bytes)) or not hasattr(labels, "__len__"):
        raise ValueError("labels must be a list of strings, one per step")
    if len(labels) != t:
        raise ValueError(f"got {len(labels)} labels for {t} steps; give one label per step")
    return [str(s) for s in labels]
