"""`LSTMTrace`: every gate and state of a traced recurrent module, by name, layer and direction.

Arrays are read-only numpy views, so a cached trace can be shared (e.g. between app sessions)
without anyone mutating it. `save` / `load` round-trip exactly through one .npz, with no pickle.
"""

from __future__ import annotations

import json
import math
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lstm_viz.checks import whole_number
from lstm_viz.limits import MAX_TRACE_BYTES, mb


@dataclass
class LSTMTrace:
    """A trace of an nn.LSTM, nn.GRU or nn.RNN on one input (or one batch).

    `states[name]` has shape (layers, directions, batch, steps, units); `gate()` slices it.
    `clamp_masks[name]` is (layers, directions, steps, units), True where a Clamp set the value.
    """

    kind: str  # "lstm", "gru" or "rnn"
    config: dict  # the module's settings (sizes, layers, bidirectional, proj_size, dtype, ...)
    states: dict[str, np.ndarray]
    output: np.ndarray  # equal to module(x)[0], in the module's own layout
    final_state: np.ndarray | tuple[np.ndarray, np.ndarray]  # module(x)[1]: h_n or (h_n, c_n)
    batched: bool = False  # False: the input was one (T, F) sequence and arrays drop the batch axis
    labels: list[str] | None = None  # one label per step (token or value), if given
    clamp_masks: dict[str, np.ndarray] = field(default_factory=dict)
    # what layer 0 read, (batch, steps, input_size) like `states` (None in a trace saved before
    # it was recorded); `lstm_viz.gate_terms` needs it to split a gate into its terms
    inputs: np.ndarray | None = None
    # the state it started from, laid out like final_state: h_0 or (h_0, c_0); zeros by default
    initial_state: np.ndarray | tuple[np.ndarray, np.ndarray] | None = None

    def __post_init__(self):
        start = self.initial_state
        start = list(start) if isinstance(start, tuple) else [start]
        for arr in [*self.states.values(), *self.clamp_masks.values(), self.inputs, *start]:
            if arr is not None:
                arr.flags.writeable = False

    # ---- shape facts -------------------------------------------------------------------------
    @property
    def names(self) -> list[str]:
        return list(self.states)

    @property
    def num_layers(self) -> int:
        return self.config["num_layers"]

    @property
    def num_directions(self) -> int:
        return 2 if self.config["bidirectional"] else 1

    @property
    def steps(self) -> int:
        return next(iter(self.states.values())).shape[3]

    @property
    def batch_size(self) -> int:
        return next(iter(self.states.values())).shape[2]

    @property
    def hidden_size(self) -> int:
        return self.config["hidden_size"]

    def units(self, name: str) -> int:
        self._check_name(name)
        return self.states[name].shape[4]

    # ---- access ------------------------------------------------------------------------------
    def gate(self, name: str, layer: int = 0, direction: int = 0) -> np.ndarray:
        """Values of `name` at every step: (T, units), or (B, T, units) for a batched input."""
        self._check_where(name, layer, direction)
        arr = self.states[name][layer, direction]
        return arr if self.batched else arr[0]

    def clamped(self, name: str, layer: int = 0, direction: int = 0) -> np.ndarray:
        """Bool mask (T, units): where a Clamp set this value (all False without clamps)."""
        self._check_where(name, layer, direction)
        mask = self.clamp_masks.get(name)
        if mask is None:
            return np.zeros((self.steps, self.units(name)), dtype=bool)
        return mask[layer, direction]

    def _check_name(self, name: str) -> None:
        if name not in self.states:
            raise ValueError(f"unknown name {name!r}; this {self.kind} trace has {self.names}")

    def _check_where(self, name: str, layer: int, direction: int) -> None:
        self._check_name(name)
        whole_number(layer, "layer"), whole_number(direction, "direction")
        if not 0 <= layer < self.num_layers:
            raise ValueError(f"layer {layer} out of range; the module has {self.num_layers}")
        if not 0 <= direction < self.num_directions:
            hint = " (the module is not bidirectional)" if self.num_directions == 1 else ""
            raise ValueError(f"direction {direction} out of range{hint}; use 0")

    # ---- files -------------------------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        """Write one .npz: arrays, labels and config; read back with `LSTMTrace.load`."""
        meta = {
            "kind": self.kind,
            "config": self.config,
            "batched": self.batched,
            "labels": self.labels,
        }
        arrays = {f"state__{k}": v for k, v in self.states.items()}
        arrays.update({f"clamp__{k}": v for k, v in self.clamp_masks.items()})
        arrays["output"] = self.output
        if isinstance(self.final_state, tuple):
            arrays["h_n"], arrays["c_n"] = self.final_state
        else:
            arrays["h_n"] = self.final_state
        if self.inputs is not None:
            arrays["inputs"] = self.inputs
        if isinstance(self.initial_state, tuple):
            arrays["h_0"], arrays["c_0"] = self.initial_state
        elif self.initial_state is not None:
            arrays["h_0"] = self.initial_state
        np.savez_compressed(path, meta=np.array(json.dumps(meta)), **arrays)

    @classmethod
    def load(cls, path: str | Path, max_bytes: int = MAX_TRACE_BYTES) -> LSTMTrace:
        """Read a trace written by `save` (no pickle: a .npz with object arrays is refused).

        Each member's shape is read from its header first: a file whose arrays would unpack to
        more than `max_bytes` (512 MB by default) is refused before anything is inflated."""
        fix = "save it with LSTMTrace.save"
        unreadable = (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error)
        try:
            _check_members(path, max_bytes)  # raises _TooBig with the user's message
            with np.load(path, allow_pickle=False) as f:
                if "meta" not in f.files:
                    raise KeyError("no meta")
                data = {k: f[k] for k in f.files}
            meta = json.loads(str(data.pop("meta")))
        except _TooBig as err:
            raise ValueError(str(err)) from None
        except RecursionError:  # json recurses once per nesting level
            raise ValueError(f"{path}: its meta is nested too deeply; {fix}") from None
        except (*unreadable, NotImplementedError) as err:  # e.g. a zip method numpy cannot read
            why = str(err)[:200]
            raise ValueError(f"{path} is not a saved lstm_viz trace ({why}); {fix}") from None
        states = {k[7:]: v for k, v in data.items() if k.startswith("state__")}
        masks = {k[7:]: v for k, v in data.items() if k.startswith("clamp__")}
        _check_loaded(meta, states, masks, data, fix)
        final = (data["h_n"], data["c_n"]) if "c_n" in data else data["h_n"]
        initial = (data["h_0"], data["c_0"]) if "c_0" in data else data.get("h_0")
        return cls(
            kind=meta["kind"],
            config=meta["config"],
            states=states,
            output=data["output"],
            final_state=final,
            batched=meta["batched"],
            labels=meta["labels"],
            clamp_masks=masks,
            inputs=data.get("inputs"),
            initial_state=initial,
        )


class _TooBig(Exception):
    """A well-formed trace file over the size limit (its message is the user's)."""


def _check_members(path, max_bytes: int) -> None:
    """Every .npy member's dtype and size from its header, before any member is read."""
    total = 0
    with zipfile.ZipFile(path) as z:
        members = z.infolist()
        if len(members) > 1000:
            raise _TooBig(f"the trace file has {len(members)} members; a trace has < 100")
        for info in members:
            with z.open(info) as member:
                version = np.lib.format.read_magic(member)
                read = {
                    (1, 0): np.lib.format.read_array_header_1_0,
                    (2, 0): np.lib.format.read_array_header_2_0,
                }.get(version)
                if read is None:
                    raise ValueError(f"member {info.filename} has .npy version {version}")
                shape, _, dtype = read(member)
            if dtype.hasobject or dtype.kind not in "fbiuU":
                raise ValueError(f"member {info.filename} holds {dtype} values")
            total += math.prod(shape) * dtype.itemsize  # Python ints: no overflow
    if total > max_bytes:
        raise _TooBig(
            f"the trace would unpack to {mb(total)}; the limit is {mb(max_bytes)}: "
            "pass LSTMTrace.load(path, max_bytes=...) if you trust this file"
        )


def _check_loaded(meta, states, masks, data, fix: str) -> None:
    """The arrays and meta agree: (L, D, B, T, U) states, (L, D, T, U) masks, T labels."""
    ok = (
        isinstance(meta, dict)
        and meta.get("kind") in ("lstm", "gru", "rnn")
        and isinstance(meta.get("config"), dict)
        and isinstance(meta.get("batched"), bool)
        and "output" in data
        and "h_n" in data
        and "hidden" in states
    )
    if not ok:
        raise ValueError(f"the file's meta or arrays are not a trace's; {fix}")
    config = meta["config"]
    layers, bidir = config.get("num_layers"), config.get("bidirectional")
    if not isinstance(layers, int) or not isinstance(bidir, bool):
        raise ValueError(f"the file's config lacks num_layers / bidirectional; {fix}")
    lead = (layers, 2 if bidir else 1)
    shapes = [a.shape for a in states.values()]
    if any(len(s) != 5 or s[:2] != lead or s[2:4] != shapes[0][2:4] for s in shapes):
        raise ValueError(f"the trace's arrays disagree on layers, directions, batch, steps; {fix}")
    if any(a.dtype.kind != "f" for a in states.values()):
        raise ValueError(f"the trace's states are not float arrays; {fix}")
    steps = shapes[0][3]
    for name, m in masks.items():
        want = (*lead, steps, states[name].shape[4]) if name in states else None
        if m.dtype != bool or m.shape != want:
            raise ValueError(f"the clamp mask of {name!r} does not fit the trace; {fix}")
    labels = meta.get("labels")
    if labels is not None and (
        not isinstance(labels, list)
        or len(labels) != steps
        or not all(isinstance(s, str) for s in labels)
    ):
        raise ValueError(f"the trace's labels are not one string per step; {fix}")
