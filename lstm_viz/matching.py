"""Select a hypothesis on one sequence, then find where else the model does the same.

After LSTMVis (Strobelt, Gehrmann, Pfister & Rush 2017, "LSTMVis: A Tool for Visual Analysis of
Hidden State Dynamics in Recurrent Neural Networks"). A unit is "on" at a step when its value is
at or above a threshold.

- `propose_units(states, start, end, threshold)`: the hypothesis. The units on at every step of
  the selected range [start, end] (both inclusive) and off at the `before` steps just before it
  and the `after` steps just after it (steps outside the sequence are not checked).
- `match(corpus, units, threshold)`: every maximal span, within one sequence, where all the
  given units are on. Its score is the Jaccard index of the query units Q and the units S on at
  every step of the span: |Q & S| / |Q | S| = |Q| / |S| (Q is inside S), so 1.0 means no other
  unit holds on across it: "the given units are on and fewer others are" ranks first. Ties go
  to the longer span, then to the earlier one. Vectorised over the whole corpus (numpy).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from lstm_viz.checks import whole_number
from lstm_viz.corpus import CorpusTrace
from lstm_viz.trace_result import LSTMTrace


@dataclass
class Proposal:
    """Units on over [start, end] and off just around it, at `threshold`."""

    units: list[int]
    threshold: float  # the threshold used: on means value >= threshold
    start: int
    end: int  # inclusive
    before: int  # steps before start that had to be off
    after: int  # steps after end that had to be off
    name: str = "hidden"  # the state the units were read from (`match` reads the same)
    layer: int = 0
    direction: int = 0


@dataclass
class Match:
    sequence: int  # index of the sequence in the corpus
    start: int  # first step of the span, within its sequence
    end: int  # last step of the span (inclusive)
    score: float  # Jaccard of the query units and the units on across the span
    on_units: int  # |S|: units on at every step of the span (the query units among them)

    @property
    def length(self) -> int:
        return self.end - self.start + 1


@dataclass
class MatchResult:
    matches: list[Match]  # the top spans, best first
    units: list[int]
    threshold: float
    n_matches: int  # spans found in the whole corpus (before `top`)
    n_sequences: int  # sequences in the corpus
    sequences_with_match: int  # sequences holding at least one span
    starts: list[tuple[str, int]] = field(default_factory=list)  # labels that begin spans
    fills: list[tuple[str, int]] = field(default_factory=list)  # labels at any step of a span

    @property
    def summary(self) -> str:
        return (
            f"found in {self.sequences_with_match:,} of {self.n_sequences:,} sequences "
            f"({self.n_matches:,} spans)"
        )


def propose_units(
    states,
    start: int,
    end: int,
    threshold: float,
    *,
    sequence: int | None = None,
    name: str = "hidden",
    layer: int = 0,
    direction: int = 0,
    before: int = 1,
    after: int = 1,
) -> Proposal:
    """LSTMVis's hypothesis: units on over [start, end] and off `before` / `after` steps around.

    states: a (T, units) array, an unbatched LSTMTrace, or a CorpusTrace with `sequence=`.
    """
    x = _sequence_states(states, sequence, name, layer, direction)
    t = len(x)
    start, end = whole_number(start, "start"), whole_number(end, "end")
    before, after = whole_number(before, "before"), whole_number(after, "after")
    if not 0 <= start <= end < t:
        raise ValueError(f"need 0 <= start <= end < {t} (the steps), got start={start}, end={end}")
    if before < 0 or after < 0:
        raise ValueError(f"before and after count steps (>= 0), got {before} and {after}")
    threshold = _threshold(threshold)
    above = _above(x, threshold)
    on = above(x[start : end + 1]).all(0)  # (U,)
    off_before = ~above(x[max(0, start - before) : start]).any(0)
    off_after = ~above(x[end + 1 : end + 1 + after]).any(0)
    keep = on & off_before & off_after
    units = [int(u) for u in np.flatnonzero(keep)]
    return Proposal(units, threshold, start, end, before, after, name, layer, direction)


def match(
    corpus: CorpusTrace,
    units: Sequence[int] | Proposal,
    threshold: float | None = None,
    name: str | None = None,
    layer: int | None = None,
    top: int = 20,
    *,
    direction: int | None = None,
    min_length: int = 1,
    max_length: int | None = None,
    meta: int = 10,
) -> MatchResult:
    """The `top` spans of `corpus` where all `units` are on, by score (see the module docstring).

    units: unit indices, or a Proposal (its threshold is used unless one is given, and its state
    name, layer and direction). name / layer / direction default to "hidden", 0, 0.
    min_length / max_length: keep spans of that many steps only (LSTMVis bounds the match
    length around the selection's). meta: how many labels to list in `starts` and `fills`.
    """
    if not isinstance(corpus, CorpusTrace):
        raise ValueError(
            f"match searches a CorpusTrace, got {type(corpus).__name__}; "
            "build one with lstm_viz.corpus_trace(model, sequences)"
        )
    if isinstance(units, Proposal):
        p = units
        asked = {"name": name, "layer": layer, "direction": direction}
        for key, value in asked.items():
            if value is not None and value != getattr(p, key):
                raise ValueError(
                    f"the proposal's units are {key}={getattr(p, key)!r}, not {value!r}; "
                    f"leave {key} out, or propose units on {key}={value!r}"
                )
        name, layer, direction = p.name, p.layer, p.direction
        threshold = p.threshold if threshold is None else threshold
        units = p.units
    name = "hidden" if name is None else name
    layer = 0 if layer is None else layer
    direction = 0 if direction is None else direction
    if threshold is None:
        raise ValueError("give a threshold (e.g. 0.3), or pass the Proposal that chose one")
    x = corpus.flat(name, layer, direction)  # (N, U)
    q = _units(units, x.shape[1])
    threshold = _threshold(threshold)
    top, meta = whole_number(top, "top"), whole_number(meta, "meta")
    min_length = whole_number(min_length, "min_length")
    if max_length is not None:
        max_length = whole_number(max_length, "max_length")
    short = max_length is not None and max_length < min_length
    if top < 1 or meta < 0 or min_length < 1 or short:
        raise ValueError(
            "need top >= 1, meta >= 0 and 1 <= min_length <= max_length; e.g. top=20, meta=10"
        )
    above = _above(x, threshold)

    # maximal runs of "all query units on", never crossing a sequence boundary
    all_on = above(x[:, q]).all(1)  # (N,)
    first = np.zeros(len(x), bool)
    first[corpus.offsets[:-1]] = True
    last = np.roll(first, -1)
    prev_on = np.concatenate([[False], all_on[:-1]])
    next_on = np.concatenate([all_on[1:], [False]])
    starts = np.flatnonzero(all_on & (first | ~prev_on))
    ends = np.flatnonzero(all_on & (last | ~next_on))
    lengths = ends - starts + 1
    keep = (lengths >= min_length) & (lengths <= (len(x) if max_length is None else max_length))
    starts, ends, lengths = starts[keep], ends[keep], lengths[keep]

    # units on at every step of each run: AND over the run's rows, on bits packed 8 to a byte
    if len(starts):
        seg = np.concatenate([[0], np.cumsum(lengths)[:-1]])  # run k's first row in `rows`
        rows = np.repeat(starts - seg, lengths) + np.arange(lengths.sum())
        bits = np.packbits(above(x[rows]), axis=1)  # (M, ceil(U / 8))
        both = np.bitwise_and.reduceat(bits, seg, axis=0)
        n_on = np.bitwise_count(both).sum(1).astype(np.int64)
    else:
        rows, n_on = np.zeros(0, np.int64), np.zeros(0, np.int64)
    score = len(q) / np.maximum(n_on, 1)
    order = np.lexsort((starts, -lengths, -score))[:top]
    seq, step = corpus.locate(starts)
    found = [
        Match(
            int(seq[k]), int(step[k]), int(step[k] + lengths[k] - 1), float(score[k]), int(n_on[k])
        )
        for k in order
    ]
    return MatchResult(
        matches=found,
        units=q.tolist(),
        threshold=threshold,
        n_matches=len(starts),
        n_sequences=corpus.num_sequences,
        sequences_with_match=len(np.unique(seq)),
        starts=_common(corpus, corpus.label_codes[starts], meta),
        fills=_common(corpus, corpus.label_codes[rows], meta),
    )


def _common(corpus: CorpusTrace, codes: np.ndarray, n: int) -> list[tuple[str, int]]:
    """The n most frequent labels among codes, with their counts (ties: the earlier code)."""
    counts = np.bincount(codes, minlength=len(corpus.label_names))
    best = np.argsort(-counts, kind="stable")[:n]
    return [(str(corpus.label_names[c]), int(counts[c])) for c in best if counts[c] > 0]


def _above(x: np.ndarray, threshold: float):
    """A function: values -> values >= threshold, exact for x's dtype and fast for float16.

    numpy compares float16 by converting every element (slow); their bit patterns, read as
    sign-magnitude integers, sort like the values, so an int16 compare gives the same answer.
    """
    if x.dtype != np.float16:
        return lambda v: v >= threshold
    t16 = np.float16(threshold)
    if t16 < threshold:  # the smallest float16 >= threshold: same answer as the real compare
        t16 = np.nextafter(t16, np.float16(np.inf))
    t_key = int(_keys(np.array([t16]))[0])
    return lambda v: _keys(v) >= t_key


def _keys(v: np.ndarray) -> np.ndarray:
    bits = v.view(np.int16)
    mag = bits & np.int16(0x7FFF)
    return np.where(bits < 0, -mag, mag)  # -0.0 and +0.0 both map to 0


def _threshold(value) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        raise ValueError(f"threshold must be a number, got {value!r}; e.g. threshold=0.3")
    if not np.isfinite(value):
        raise ValueError(f"threshold must be finite, got {value}; e.g. threshold=0.3")
    return float(value)


def _units(units, n: int) -> np.ndarray:
    try:
        q = np.asarray(list(units))
    except TypeError:
        raise ValueError(f"units must be a list of unit indices, got {units!r}") from None
    if q.size == 0:
        raise ValueError(
            "no units to match; select a range where some units are on (lower the threshold) "
            "or pass units=[...]"
        )
    if not np.issubdtype(q.dtype, np.integer) or q.dtype == bool:
        raise ValueError(f"units must be whole numbers, got {list(units)!r}")
    if q.min() < 0 or q.max() >= n or len(np.unique(q)) != len(q):
        raise ValueError(f"units must be distinct indices in 0..{n - 1}, got {q.tolist()}")
    return np.sort(q)


def _sequence_states(states, sequence, name, layer, direction) -> np.ndarray:
    if isinstance(states, CorpusTrace):
        if sequence is None:
            raise ValueError("a CorpusTrace holds many sequences; pass sequence=i to pick one")
        return states.sequence(sequence, name, layer, direction)
    if sequence is not None:
        raise ValueError("sequence= only applies to a CorpusTrace; slice your array instead")
    if isinstance(states, LSTMTrace):
        if states.batched:
            raise ValueError("this trace is batched; trace one sequence, or pass trace.gate()[b]")
        return states.gate(name, layer, direction)
    x = np.asarray(states)
    if x.ndim != 2 or not np.issubdtype(x.dtype, np.number):
        raise ValueError(f"states must be (steps, units) numbers, got shape {x.shape}")
    return x
