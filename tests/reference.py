"""An independent float64 reference: the recurrences of PyTorch's docs as plain numpy loops.

Deliberately written without lstm_viz code, so the tests compare two separate implementations.
`clamps` maps (name, layer, direction) -> (mask (T, U) bool, value): the reference's own way to
apply an intervention, to check the engine's against; value is a number or a (T, U) array.
"""

from __future__ import annotations

import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def weights(module, layer, direction):
    sfx = f"_l{layer}" + ("_reverse" if direction else "")
    out = {}
    for key in ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr"):
        p = getattr(module, key + sfx, None)
        out[key] = None if p is None else p.detach().double().numpy()
    return out


def reference(module, x, h0=None, c0=None, clamps=None):
    """x: (T, F) one sequence. Returns {(name, layer, direction): (T, U)} and the top output."""
    kind = type(module).__name__.lower()
    clamps = clamps or {}
    dirs = 2 if module.bidirectional else 1
    layers = module.num_layers
    proj = getattr(module, "proj_size", 0)
    hsize = proj or module.hidden_size
    seq = np.asarray(x, dtype=np.float64)
    out = {}
    for layer in range(layers):
        outs = []
        for d in range(dirs):
            w = weights(module, layer, d)
            k = layer * dirs + d
            h = np.zeros(hsize) if h0 is None else np.asarray(h0[k], np.float64)
            c = np.zeros(module.hidden_size) if c0 is None else np.asarray(c0[k], np.float64)
            order = range(len(seq) - 1, -1, -1) if d else range(len(seq))
            rec = {}

            def clamp(name, t, v, layer=layer, d=d):
                if (name, layer, d) in clamps:
                    mask, value = clamps[(name, layer, d)]
                    v = np.where(mask[t], value[t] if np.ndim(value) == 2 else value, v)
                return v

            for t in order:
                zx = w["weight_ih"] @ seq[t] + (0 if w["bias_ih"] is None else w["bias_ih"])
                zh = w["weight_hh"] @ h + (0 if w["bias_hh"] is None else w["bias_hh"])
                if kind == "lstm":
                    zi, zf, zg, zo = np.split(zx + zh, 4)
                    i = clamp("input", t, sigmoid(zi))
                    f = clamp("forget", t, sigmoid(zf))
                    g = clamp("candidate", t, np.tanh(zg))
                    o = clamp("output", t, sigmoid(zo))
                    c = clamp("cell", t, f * c + i * g)
                    h = o * np.tanh(c)
                    if proj:
                        h = clamp("hidden_unprojected", t, h)
                        rec.setdefault("hidden_unprojected", {})[t] = h
                        h = w["weight_hr"] @ h
                    vals = {"input": i, "forget": f, "candidate": g, "output": o, "cell": c}
                elif kind == "gru":
                    xr, xz, xn = np.split(zx, 3)
                    hr, hz, hn = np.split(zh, 3)
                    r = clamp("reset", t, sigmoid(xr + hr))
                    z = clamp("update", t, sigmoid(xz + hz))
                    n = clamp("new", t, np.tanh(xn + r * hn))
                    h = (1 - z) * n + z * h
                    vals = {"reset": r, "update": z, "new": n}
                else:
                    pre = zx + zh
                    h = np.tanh(pre) if module.nonlinearity == "tanh" else np.maximum(pre, 0)
                    vals = {}
                h = clamp("hidden", t, h)
                vals["hidden"] = h
                for name, v in vals.items():
                    rec.setdefault(name, {})[t] = v
            for name, by_t in rec.items():
                out[(name, layer, d)] = np.stack([by_t[t] for t in range(len(seq))])
            outs.append(out[("hidden", layer, d)])
        seq = np.concatenate(outs, axis=1)
    return out, seq
