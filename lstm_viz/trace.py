"""`trace`: every gate and state of a torch.nn.LSTM / GRU / RNN at every step, exactly.

Two paths compute the same numbers (tests hold them to float tolerance of each other and of a
float64 reference):
- fast, with no interventions: for each layer and direction, the module's own fused kernel gives
  h at every step; from h_{t-1} all gates follow in one batched matrix product, and the cell state
  from a chunked linear scan (`cells.linear_scan`). No per-step Python loop of matrix products.
- step, for a layer and direction with a Clamp: the recurrence of `cells` one step at a time,
  replacing clamped values as they are computed, so their effect flows on like the network's own.
Layers run bottom-up; a layer's input is the (possibly clamped) hidden sequence of the one below.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from lstm_viz import cells
from lstm_viz.cells import LayerWeights
from lstm_viz.checks import (
    as_batch,
    check_labels,
    initial_state,
    module_config,
    module_kind,
    traced_names,
)
from lstm_viz.interventions import Clamp, ClampPlan, plan_clamps, validate_clamps
from lstm_viz.rewrite import Run, plan_runs
from lstm_viz.trace_result import LSTMTrace


def trace(
    module: nn.Module,
    x,
    state=None,
    interventions: Sequence[Clamp] | None = None,
    labels: Sequence[str] | None = None,
) -> LSTMTrace:
    """Trace `module` (an nn.LSTM, nn.GRU or nn.RNN) on `x`.

    x: (T, input_size) for one sequence, or 3-D for a batch in the module's layout (honouring
    batch_first); then every array in the trace gains a leading batch axis.
    state: initial state as the module takes it: (h0, c0) for an LSTM, h0 for GRU / RNN.
    interventions: Clamps applied inside the recurrence (see `lstm_viz.Clamp`). Where clamps
        overlap, a later clamp of the same name wins and a state clamp ("cell", "hidden") wins
        over a gate clamp; steps are in original time in both directions.
    labels: one string per step (e.g. the tokens), kept with the trace.
    """
    kind = module_kind(module)
    cfg = module_config(module, kind)
    xs, batched = as_batch(module, x)  # (B, T, F)
    b, t = xs.shape[:2]
    h0, c0 = initial_state(module, kind, state, b, batched, xs.dtype)
    labels = check_labels(labels, t)
    if module.training and module.dropout > 0:
        warnings.warn(
            "module is in training mode with dropout; it is traced as in eval mode (no dropout)",
            stacklevel=2,
        )
    names = traced_names(kind, cfg)
    units = {
        n: (cfg["proj_size"] or cfg["hidden_size"]) if n == "hidden" else cfg["hidden_size"]
        for n in names
    }
    clamps = list(interventions or [])
    n_dir = 2 if cfg["bidirectional"] else 1
    validate_clamps(clamps, names, cfg["num_layers"], n_dir, t, units)

    layers, dirs = cfg["num_layers"], n_dir
    per_place: dict[str, list[np.ndarray]] = {n: [] for n in names}  # (B, T, U), layer-major
    masks = {}
    h_n, c_n = [], []
    layer_in = xs
    with torch.no_grad():
        for layer in range(layers):
            outs = []
            for d in range(dirs):
                k = layer * dirs + d
                weights = LayerWeights.of(module, layer, d)
                plan = plan_clamps(clamps, layer, d, t, units, xs.dtype)
                seq = layer_in.flip(1) if d else layer_in  # the reverse direction reads backwards
                c0k = None if c0 is None else c0[k]
                vals, hn, cn = _run(kind, cfg, weights, seq, h0[k], c0k, plan, reverse=bool(d))
                for name, v in vals.items():
                    per_place[name].append((v.flip(1) if d else v).numpy())
                for name, m in (plan.masks if plan else {}).items():
                    masks.setdefault(name, np.zeros((layers, dirs, t, units[name]), bool))
                    masks[name][layer, d] = m.numpy()
                outs.append(vals["hidden"].flip(1) if d else vals["hidden"])
                h_n.append(hn)
                c_n.append(cn)
            layer_in = torch.cat(outs, dim=-1)  # (B, T, D*H_out): what the next layer reads

    # (L, D, B, T, U); one layer and direction (the usual case) needs no copy at all
    shape = lambda a: a.reshape(layers, dirs, *a.shape[1:])  # noqa: E731
    states = {
        n: shape(np.stack(v)) if len(v) > 1 else v[0][None, None] for n, v in per_place.items()
    }
    output = layer_in if cfg["batch_first"] else layer_in.transpose(0, 1)
    h_n = torch.stack(h_n)  # (L*D, B, H_out)
    if not batched:
        output, h_n = output[0] if cfg["batch_first"] else output[:, 0], h_n[:, 0]
    final = h_n.numpy()
    initial = (h0 if batched else h0[:, 0]).numpy().copy()  # copies: the caller may reuse them
    if kind == "lstm":
        c_n = torch.stack(c_n)
        final = (final, (c_n if batched else c_n[:, 0]).numpy())
        initial = (initial, (c0 if batched else c0[:, 0]).numpy().copy())
    return LSTMTrace(
        kind=kind,
        config=cfg,
        states=states,
        output=output.numpy(),
        final_state=final,
        batched=batched,
        labels=labels,
        clamp_masks=masks,
        inputs=xs.numpy().copy(),
        initial_state=initial,
    )


# the fused kernels' trailing arguments: 1 layer, no dropout, not training, one direction,
# batch_first (the engine keeps every sequence as (B, T, F))
_ONE_LAYER = (1, 0.0, False, False, True)


def _run(kind, cfg, w: LayerWeights, xs, h0, c0, plan: ClampPlan | None, reverse: bool):
    """One layer and direction over xs (B, T, F), already in reading order.

    Before the first clamped step and after the last, nothing differs from the plain network, so
    only the clamped window runs step by step; the fused kernel does the rest, from the state the
    window left. Returns ({name: (B, T, U)}, h_n, c_n).
    """
    span = plan.span() if plan is not None else None
    if span is None:
        return _fast(kind, cfg, w, xs, h0, c0)
    t = xs.shape[1]
    lo, hi = span
    whole = plan.window(0, t, reverse)
    runs = plan_runs(whole, kind, w)
    if runs is not None:  # every clamp is a weight edit: the fused kernel runs it, run by run
        return _fast(kind, cfg, w, xs, h0, c0, whole, runs)
    start, stop = (t - hi, t - lo) if reverse else (lo, hi)  # the window in reading order
    parts, h, c = [], h0, c0
    if start > 0:
        vals, h, c = _fast(kind, cfg, w, xs[:, :start], h, c)
        parts.append(vals)
    vals, h, c = _stepwise(kind, cfg, w, xs[:, start:stop], h, c, plan.window(lo, hi, reverse))
    parts.append(vals)
    if stop < t:
        vals, h, c = _fast(kind, cfg, w, xs[:, stop:], h, c)
        parts.append(vals)
    if len(parts) == 1:
        return parts[0], h, c
    return {name: torch.cat([p[name] for p in parts], dim=1) for name in parts[0]}, h, c


def _kernel(kind, cfg, w: LayerWeights, xs, h0, c0):
    """The module's own fused kernel on one layer and direction: (out (B, T, H_out), h_n, c_n)."""
    with warnings.catch_warnings():
        # torch notes that oneDNN lacks projections and falls back: not the user's concern
        warnings.filterwarnings("ignore", message="LSTM with projections")
        has_bias = w.b_ih is not None
        if kind == "lstm":
            out, hn, cn = torch.lstm(xs, (h0[None], c0[None]), w.flat(), has_bias, *_ONE_LAYER)
            return out, hn[0], cn[0]
        if kind == "gru":
            out, hn = torch.gru(xs, h0[None], w.flat(), has_bias, *_ONE_LAYER)
        else:
            fn = torch.rnn_tanh if cfg["nonlinearity"] == "tanh" else torch.rnn_relu
            out, hn = fn(xs, h0[None], w.flat(), has_bias, *_ONE_LAYER)
        return out, hn[0], None


def _run_kernels(kind, cfg, runs: list[Run], xs, h0, c0, plan: ClampPlan):
    """The fused kernel run by run, each with its edited weights, from the state the last left."""
    outs, h, c = [], h0, c0
    held = plan.masks.get("hidden")
    for run in runs:
        out, h, c = _kernel(kind, cfg, run.weights, xs[:, run.start : run.stop], h, c)
        if held is not None:  # the kernel's own h there is never read: write the clamped value
            span = slice(run.start, run.stop)
            out = torch.where(held[span], plan.values["hidden"][span], out)
            h = out[:, -1]
        outs.append(out)
    return torch.cat(outs, dim=1), h, c


def _fast(kind, cfg, w: LayerWeights, xs, h0, c0, plan: ClampPlan | None = None, runs=None):
    """Fused forward for h, then every gate at once; returns ({name: (B, T, U)}, h_n, c_n).

    With `runs` (from `rewrite.plan_runs`), the kernel runs with clamps as weight edits; the gates
    are then recovered with the original weights and take the plan's values where clamped.
    """
    if runs is None:
        out, hn, cn = _kernel(kind, cfg, w, xs, h0, c0)
    else:
        out, hn, cn = _run_kernels(kind, cfg, runs, xs, h0, c0, plan)
    vals = _recover(kind, w, xs, h0, c0, out, plan)
    if plan is not None and "cell" in plan.masks:
        cn = vals["cell"][:, -1]  # the exact clamped value, not the kernel's tanh(atanh(v))
    return vals, hn, cn


def _recover(kind, w: LayerWeights, xs, h0, c0, out, plan: ClampPlan | None):
    """Every gate from the kernel's h (B, T, H_out): one batched matrix product and a scan."""
    keep = _overrides(plan)
    if kind == "rnn":
        return {"hidden": out}
    h_prev = torch.cat([h0[:, None], out[:, :-1]], dim=1)  # (B, T, H_out): h_{t-1} at each t
    if kind == "gru":
        zx = w.by_gate([xs], use_input=True, use_hidden=False)  # (3, B, T, H)
        zh = w.by_gate([h_prev], use_input=False, use_hidden=True)
        reset = keep("reset", cells.gru_gates(zx, zh)[0])
        _, update, new = cells.gru_gates(zx, zh, reset=reset)
        vals = {"reset": reset, "update": keep("update", update), "new": keep("new", new)}
        return {**vals, "hidden": out}
    z = w.by_gate([xs, h_prev], use_input=True, use_hidden=True)  # (4, B, T, H)
    gates = zip(LSTM_GATES[:4], cells.lstm_gates(*z), strict=True)
    i, f, g, o = (keep(name, v) for name, v in gates)
    decay, write = f, i * g
    if plan is not None and "cell" in plan.masks:  # a clamped cell: c_t = 0 * c_{t-1} + value
        decay = torch.where(plan.masks["cell"], 0.0, decay)
        write = keep("cell", write)
    c = _cell_scan(decay, write, c0)  # c_t = f_t * c_{t-1} + i_t * g_t for every t
    vals = {"input": i, "forget": f, "candidate": g, "output": o, "cell": c, "hidden": out}
    if w.w_hr is not None:
        vals[cells.UNPROJECTED] = keep(cells.UNPROJECTED, cells.lstm_hidden(o, c))
    return vals


def _overrides(plan: ClampPlan | None):
    """keep(name, values (B, T, U)): the values with the plan's clamps written in."""

    def keep(name, values):
        if plan is None or name not in plan.masks:
            return values
        return torch.where(plan.masks[name], plan.values[name], values)

    return keep


def _cell_scan(forget, write, c0):
    """`cells.linear_scan` over time for (B, T, H) tensors, batch folded into the unit axis."""
    b, t, h = forget.shape
    fold = lambda a: a.transpose(0, 1).reshape(t, b * h).numpy()  # noqa: E731
    c = cells.linear_scan(fold(forget), fold(write), c0.reshape(b * h).numpy())
    return torch.from_numpy(c).view(t, b, h).transpose(0, 1)


def _stepwise(kind, cfg, w: LayerWeights, xs, h0, c0, plan: ClampPlan):
    """The recurrence one step at a time with clamps; same return as `_fast`."""
    t = xs.shape[1]
    zx = w.input_part(xs)  # (B, T, G*H): the input half of every step, computed once
    if kind != "gru" and w.b_hh is not None:
        zx = zx + w.b_hh  # LSTM and RNN only ever sum the two biases: fold b_h* in once
    record: dict[str, list[torch.Tensor]] = {}
    keep = lambda name, v: record.setdefault(name, []).append(v)  # noqa: E731
    h, c = h0, c0
    w_hh_t = w.w_hh.T.contiguous()  # hot loop: every saved op counts
    zx_steps = zx.unbind(1)
    for s in range(t):
        if kind == "lstm":
            z = torch.addmm(zx_steps[s], h, w_hh_t)  # (B, 4H)
            i, f, g, o = cells.lstm_gates(*z.chunk(4, dim=-1))
            i, f = plan.apply("input", s, i), plan.apply("forget", s, f)
            g, o = plan.apply("candidate", s, g), plan.apply("output", s, o)
            c = plan.apply("cell", s, cells.lstm_cell(f, c, i, g))
            h = cells.lstm_hidden(o, c)
            if w.w_hr is not None:
                h = plan.apply(cells.UNPROJECTED, s, h)
                keep(cells.UNPROJECTED, h)
                h = h @ w.w_hr.T
            for name, v in zip(LSTM_GATES, (i, f, g, o, c), strict=True):
                keep(name, v)
        elif kind == "gru":
            zxs, zh = zx_steps[s].chunk(3, dim=-1), w.hidden_part(h).chunk(3, dim=-1)
            r = plan.apply("reset", s, cells.gru_gates(zxs, zh)[0])
            _, z, n = cells.gru_gates(zxs, zh, reset=r)  # n_t reads the (clamped) r_t
            z, n = plan.apply("update", s, z), plan.apply("new", s, n)
            h = cells.gru_hidden(z, n, h)
            for name, v in zip(("reset", "update", "new"), (r, z, n), strict=True):
                keep(name, v)
        else:
            h = cells.rnn_hidden(torch.addmm(zx_steps[s], h, w_hh_t), cfg["nonlinearity"])
        h = plan.apply("hidden", s, h)
        keep("hidden", h)
    vals = {k: torch.stack(v, dim=1) for k, v in record.items()}
    return vals, h, c


LSTM_GATES = ("input", "forget", "candidate", "output", "cell")
