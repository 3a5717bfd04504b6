"""`corpus_trace`: the hidden (and cell) states of a model over many sequences, traced in batches.

LSTMVis (Strobelt et al. 2017) asks "where else in the data do these units do this?", which needs
the states of a whole corpus at hand. This module traces a list of sequences of any lengths in
padded batches (sorted by length, so little padding is wasted; `batch_states` computes them,
equal to `lstm_viz.trace` of each sequence alone) and stores every step of every sequence end
to end in one flat array per state, with `offsets` mapping (sequence, step) <-> flat index.

Padding never leaks: a unidirectional core's state at step t depends only on steps 0..t, so the
padded tail of a short sequence changes nothing before its end, and the tail is cut off. A
bidirectional core's reverse direction reads the padding first, so for it every batch holds
sequences of one length only (no padding at all).

Memory: steps x units x layers x directions x (2 for an LSTM's hidden and cell) x 2 bytes in the
default float16 (e.g. 100,000 characters x 64 units x 2 states = 25.6 MB), plus the inputs and
one int32 label code per step. `CorpusTrace.nbytes` says what a given corpus takes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from lstm_viz.batch_states import STORED, batches, torch_threads, trace_batch
from lstm_viz.checks import module_config, module_kind, whole_number


@dataclass
class CorpusTrace:
    """Per-step states of many sequences, laid end to end.

    states[name]: (layers, directions, N, units) for N = total steps; sequence i fills the flat
    rows offsets[i] : offsets[i + 1]. inputs: (N,) token ids or (N, features) values.
    label_codes (N,) index into label_names: the readable token / value of every step.
    """

    kind: str  # "lstm", "gru" or "rnn"
    config: dict  # the core's settings (as in LSTMTrace.config)
    states: dict[str, np.ndarray]
    offsets: np.ndarray  # (S + 1,) int64
    inputs: np.ndarray
    label_codes: np.ndarray  # (N,) int32
    label_names: np.ndarray  # (K,) str

    def __post_init__(self):
        for arr in (*self.states.values(), self.offsets, self.inputs, self.label_codes):
            arr.flags.writeable = False  # a cached corpus is shared between app sessions

    # ---- shape facts -------------------------------------------------------------------------
    @property
    def num_sequences(self) -> int:
        return len(self.offsets) - 1

    @property
    def steps(self) -> int:
        """Total steps over all sequences (N)."""
        return int(self.offsets[-1])

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    @property
    def names(self) -> list[str]:
        return list(self.states)

    @property
    def nbytes(self) -> int:
        """Bytes held by the arrays (states, inputs, labels, offsets)."""
        arrays = (*self.states.values(), self.offsets, self.inputs, self.label_codes)
        return sum(a.nbytes for a in arrays) + self.label_names.nbytes

    # ---- (sequence, step) <-> flat index -----------------------------------------------------
    def flat_index(self, sequence, step) -> np.ndarray | int:
        """Flat row of (sequence, step); both may be arrays of the same shape."""
        seq, st = np.asarray(sequence), np.asarray(step)
        if seq.size and (seq.min() < 0 or seq.max() >= self.num_sequences):
            raise ValueError(f"sequence out of range; the corpus has {self.num_sequences}")
        if st.size and ((st < 0).any() or (st >= self.lengths[seq]).any()):
            raise ValueError("step out of range for its sequence; see corpus.lengths")
        flat = self.offsets[seq] + st
        return int(flat) if flat.ndim == 0 else flat

    def locate(self, flat) -> tuple:
        """(sequence, step) of flat row(s): the inverse of `flat_index`."""
        f = np.asarray(flat)
        if f.size and (f.min() < 0 or f.max() >= self.steps):
            raise ValueError(f"flat index out of range; the corpus has {self.steps} steps")
        seq = np.searchsorted(self.offsets, f, side="right") - 1
        step = f - self.offsets[seq]
        return (int(seq), int(step)) if f.ndim == 0 else (seq, step)

    # ---- access ------------------------------------------------------------------------------
    def flat(self, name: str = "hidden", layer: int = 0, direction: int = 0) -> np.ndarray:
        """(N, units) states of every step of every sequence (a view, no copy)."""
        if name not in self.states:
            raise ValueError(f"unknown name {name!r}; this corpus stores {self.names}")
        layers, dirs = self.states[name].shape[:2]
        whole_number(layer, "layer"), whole_number(direction, "direction")
        if not 0 <= layer < layers:
            raise ValueError(f"layer {layer} out of range; the core has {layers}")
        if not 0 <= direction < dirs:
            raise ValueError(f"direction {direction} out of range; use 0..{dirs - 1}")
        return self.states[name][layer, direction]

    def sequence(self, i: int, name: str = "hidden", layer: int = 0, direction: int = 0):
        """(T_i, units) states of sequence i."""
        i = whole_number(i, "sequence")
        if not 0 <= i < self.num_sequences:
            raise ValueError(f"sequence {i} out of range; the corpus has {self.num_sequences}")
        return self.flat(name, layer, direction)[self.offsets[i] : self.offsets[i + 1]]

    def labels(self, i: int) -> list[str]:
        """The readable label of every step of sequence i."""
        self.sequence(i)  # checks i
        codes = self.label_codes[self.offsets[i] : self.offsets[i + 1]]
        return self.label_names[codes].tolist()


def corpus_trace(
    model: nn.Module,
    sequences: Sequence,
    batch_size: int = 256,
    labels: Sequence[Sequence[str]] | None = None,
    dtype=np.float16,
    threads: int | None = 1,
) -> CorpusTrace:
    """Trace `model` on every sequence, in padded batches; see the module docstring.

    model: as `load_shipped` or `load_model` return it, or a bare nn.LSTM / GRU / RNN; a loaded
    model of several recurrent groups is traced at its top group (`.core`), as its `.trace` is.
    sequences: 1-D token-id arrays (token models) or 2-D (T, features) arrays, any lengths.
    labels: one string per step per sequence (default: the vocabulary token, or the values).
    dtype: np.float16 (default; half the memory, ~3 significant digits) or np.float32 (exact to
    the trace's own float32 numbers).
    threads: torch's intra-op threads while tracing (None: leave torch's setting). The LSTM path
    runs many small ops, where more threads only add synchronisation: on this 2-core machine
    under load, 2 threads took 16-22 s for the chars corpus against 1.4 s for 1. Torch's setting
    is process-wide, so it is changed under a lock and restored after.
    """
    core, encode, n_tokens, vocab, input_size, equal_lengths, table = _parts(model)
    kind = module_kind(core)
    cfg = module_config(core, kind)
    whole_number(batch_size, "batch_size")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}; e.g. 256")
    if threads is not None and (whole_number(threads, "threads") < 1):
        raise ValueError(f"threads must be at least 1 (or None), got {threads}; e.g. threads=1")
    if np.dtype(dtype) not in (np.float16, np.float32, np.float64):
        raise ValueError(f"dtype must be np.float16, np.float32 or np.float64, got {dtype!r}")
    seqs = _check_sequences(sequences, n_tokens, input_size, cfg["dtype"])
    lengths = np.array([len(s) for s in seqs], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    names = STORED[kind]
    dirs = 2 if cfg["bidirectional"] else 1
    units = {"hidden": cfg["proj_size"] or cfg["hidden_size"], "cell": cfg["hidden_size"]}
    n = int(offsets[-1])
    tdtype = getattr(torch, np.dtype(dtype).name)
    out = {k: torch.empty(cfg["num_layers"], dirs, n, units[k], dtype=tdtype) for k in names}
    with torch_threads(threads):
        for batch in batches(lengths, batch_size, equal_lengths):
            trace_batch(core, kind, cfg, encode, seqs, batch, lengths, offsets, out, tdtype, table)
    inputs = np.concatenate(seqs) if seqs else np.zeros(0)
    codes, names_ = _label_codes(seqs, inputs, labels, n_tokens, vocab, lengths)
    states = {k: v.numpy() for k, v in out.items()}
    return CorpusTrace(kind, cfg, states, offsets, inputs, codes, names_)


def shipped_corpus(name: str, dtype=np.float16):
    """(Corpus, CorpusTrace): a shipped model's held-out corpus and its trace (what the app
    caches once per server)."""
    from lstm_viz.models import load_shipped
    from lstm_viz.tasks.corpora import corpus_for

    corpus = corpus_for(name)
    trace = corpus_trace(load_shipped(name), corpus.sequences, labels=corpus.labels, dtype=dtype)
    return corpus, trace


def _parts(model):
    """How a model reads a padded batch: (core, encode, n_tokens, vocab, input_size, equal, table).

    encode maps a padded batch (B, W) of ids or (B, W, F) of values to the core's input
    (B, W, F') in the core's dtype; for a loaded model of several recurrent groups (`load_model`)
    the groups below its top one (its `.core`) run first. equal: some module reads backwards, so
    batches must not be padded. table: (V, F') the core input of every token, for a token model
    with no recurrent group below its core (its input at a step is then a function of the token
    alone, so the batches are traced from ids), else None.
    """
    core = getattr(model, "core", model)
    if not isinstance(core, nn.RNNBase):
        raise ValueError(
            f"corpus_trace takes a model as load_shipped / load_model return it, or an "
            f"nn.LSTM / GRU / RNN, got {type(model).__name__}; for another wrapper pass its core"
        )
    dtype = core.weight_ih_l0.dtype
    if core is model:
        encode = lambda x: torch.as_tensor(x, dtype=dtype)  # noqa: E731
        return core, encode, None, None, core.input_size, core.bidirectional, None
    below = list(getattr(model, "groups", [core]))[:-1]  # batch_first, as load_model makes them
    config = getattr(model, "config", None)
    embedding = getattr(model, "embedding", None) or getattr(model, "encoder", None)
    n_tokens = embedding.num_embeddings if isinstance(embedding, nn.Embedding) else None
    input_size = getattr(model, "input_size", None)
    if not isinstance(input_size, int):
        input_size = getattr(config, "input_size", core.input_size)

    def encode(x):
        with torch.no_grad():
            h = model.encode(torch.as_tensor(x))
            for group in below:
                h = group(h.to(group.weight_ih_l0.dtype))[0]
            return h.to(dtype)

    equal = any(m.bidirectional for m in [*below, core])
    table = encode(np.arange(n_tokens)[None])[0] if n_tokens and not below else None
    return core, encode, n_tokens, getattr(config, "vocab", None), input_size, equal, table


def _check_sequences(sequences, n_tokens, input_size, dtype) -> list[np.ndarray]:
    if isinstance(sequences, (np.ndarray, torch.Tensor)) and np.ndim(sequences) >= 1:
        sequences = list(sequences)  # a (S, T) or (S, T, F) array: its rows are the sequences
    if not isinstance(sequences, (list, tuple)) or not sequences:
        raise ValueError(
            "sequences must be a non-empty list of arrays: token ids (T,) for a token model, "
            "(T, features) values otherwise"
        )
    out = []
    for k, s in enumerate(sequences):
        a = np.asarray(s.numpy() if isinstance(s, torch.Tensor) else s)
        if n_tokens:
            if a.ndim != 1 or not (np.issubdtype(a.dtype, np.integer) or a.size == 0):
                raise ValueError(
                    f"sequence {k} has shape {a.shape} and dtype {a.dtype}; a token model "
                    "reads 1-D integer token ids (encode text with the task's encoder)"
                )
            a = a.astype(np.int64, copy=False)  # the id range is checked once for all, below
        else:
            a = a[:, None] if a.ndim == 1 and input_size == 1 else a
            if a.ndim != 2 or a.shape[1] != input_size or not np.issubdtype(a.dtype, np.number):
                raise ValueError(
                    f"sequence {k} has shape {a.shape}; the model reads (T, {input_size}) numbers"
                )
            if not np.isfinite(a).all():
                raise ValueError(f"sequence {k} contains NaN or inf; clean or fill those values")
            a = a.astype(np.float64 if dtype == "float64" else np.float32)  # the core's own
        if len(a) == 0:
            raise ValueError(f"sequence {k} is empty; drop it or give it at least one step")
        out.append(a)
    if n_tokens:
        ids = np.concatenate(out)
        if ids.min() < 0 or ids.max() >= n_tokens:
            k = next(k for k, a in enumerate(out) if a.min() < 0 or a.max() >= n_tokens)
            raise ValueError(f"sequence {k} has ids outside 0..{n_tokens - 1} (the vocab)")
    return out


def _label_codes(seqs, inputs, labels, n_tokens, vocab, lengths):
    """(codes (N,) int32, names (K,) str): token models reuse their ids as codes."""
    if labels is not None:
        if len(labels) != len(seqs) or any(
            len(a) != n for a, n in zip(labels, lengths, strict=True)
        ):
            raise ValueError("labels must give one string per step of every sequence")
        flat = np.array([str(s) for lab in labels for s in lab])
        names, codes = np.unique(flat, return_inverse=True)
        return codes.astype(np.int32), names
    if n_tokens:  # token models: the ids are the codes, the vocabulary (or the id) the label
        names = vocab if vocab and len(vocab) == n_tokens else [str(i) for i in range(n_tokens)]
        return inputs.astype(np.int32), np.array(names)
    text = np.array([", ".join(f"{v:.3g}" for v in row) for row in inputs.reshape(len(inputs), -1)])
    names, codes = np.unique(text, return_inverse=True)
    return codes.astype(np.int32), names
