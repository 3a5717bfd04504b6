"""Held-out corpora for the shipped models: many sequences to search with `lstm_viz.match`.

One corpus per task, drawn from the task's own generator or data with seeds no training batch or
evaluation set uses, so a pattern found in it is a pattern of held-out data:

- chars: a new 100,000-character text, cut at full stops outside quotes and brackets into
  sequences of about 500 characters (each starts a fresh sentence, as training documents do);
- cue: 2,000 sentences (cue clause, 5-200 filler tokens, query, answer, suffix);
- adding: 2,000 sequences of the model's length T;
- forecast: the model's series (as the model reads it) in windows of its training length, one
  season apart.

`corpus_for(name)` dispatches on the model's `config.task` (`_BUILDERS`): the one seam to move
onto the task registry (a `corpus` field of `lstm_viz.tasks.task.Task`). Tracing a corpus is
`lstm_viz.corpus.shipped_corpus` (tasks never import the engine).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lstm_viz.models import SequenceModel, load_shipped
from lstm_viz.tasks import adding, chars, cue, forecast
from lstm_viz.tasks.series import variant_series

CHARS_SEED = 20_170_101  # new seeds: neither training batches nor the evaluation sets use them
CUE_SEED = 20_170_102
ADDING_SEED = 20_170_103
CHARS_TOTAL = 100_000  # characters in the chars corpus
CHARS_PIECE = 500  # a sequence ends at the first safe full stop after this many characters
N_SEQUENCES = 2_000  # cue sentences and adding sequences
CUE_GAPS = (5, 200)  # cue corpus gaps, drawn uniformly (inclusive)


@dataclass
class Corpus:
    """Sequences (model inputs) with a readable label per step and per-sequence facts."""

    model: str  # the model the corpus is for ("" for a model passed in, not by name)
    task: str
    sequences: list[np.ndarray]  # token ids (T,) or values (T, F), as the model reads them
    labels: list[list[str]]  # one label per step of each sequence
    info: dict[str, list] = field(default_factory=dict)  # per-sequence facts, one entry each
    description: str = ""

    @property
    def steps(self) -> int:
        return sum(len(s) for s in self.sequences)


def corpus_for(model: str | SequenceModel) -> Corpus:
    """The held-out corpus for a shipped model (by name) or a model with a task's config."""
    name = model if isinstance(model, str) else ""
    if isinstance(model, str):
        model = load_shipped(model)  # small; only its config is read
    task = getattr(getattr(model, "config", None), "task", "")
    if task not in _BUILDERS:
        raise ValueError(
            f"no corpus for task {task!r}; corpora exist for {', '.join(_BUILDERS)} models "
            "(for your own data, pass its sequences to lstm_viz.corpus_trace directly)"
        )
    corpus = _BUILDERS[task](model)
    corpus.model = name
    return corpus


# --- one builder per task ------------------------------------------------------------------


def _chars(model: SequenceModel) -> Corpus:
    text = chars.generate_text(CHARS_TOTAL, CHARS_SEED)
    cuts = _safe_cuts(text, chars.inside_quotes(text), chars.bracket_depth(text))
    bounds = [0]
    for c in cuts:
        if c - bounds[-1] >= CHARS_PIECE:
            bounds.append(int(c))
    bounds.append(len(text))
    pieces = [text[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True) if b > a]
    return Corpus(
        "",
        "chars",
        [chars.encode_text(p) for p in pieces],
        [chars.step_labels(p) for p in pieces],
        {"text": pieces, "start": bounds[:-1]},
        f"{len(text):,} held-out characters (seed {CHARS_SEED}) in {len(pieces)} sequences",
    )


def _safe_cuts(text: str, quotes: np.ndarray, depth: np.ndarray) -> np.ndarray:
    """Positions p where a new sentence may start: after '. ' with no quote or bracket open."""
    arr = np.frombuffer(text.encode("ascii"), dtype=np.uint8)
    p = np.arange(2, len(text))
    ok = (arr[p - 1] == ord(" ")) & (arr[p - 2] == ord(".")) & (quotes[p - 1] == 0)
    return p[ok & (depth[p - 1] == 0)]


def _cue(model: SequenceModel) -> Corpus:
    rng = np.random.default_rng(CUE_SEED)
    seqs, labels = [], []
    info = {"cue": [], "query": [], "gap": [], "answer": []}
    for _ in range(N_SEQUENCES):
        gap = int(rng.integers(CUE_GAPS[0], CUE_GAPS[1] + 1))
        tokens, cue_at, answer, suffix = cue.make_sequence(rng, gap)
        full = tokens + [answer] + suffix
        seqs.append(cue.encode(full))
        labels.append(full)
        for key, value in zip(info, (cue_at, len(tokens) - 1, gap, answer), strict=True):
            info[key].append(value)
    return Corpus(
        "",
        "cue",
        seqs,
        labels,
        info,
        f"{N_SEQUENCES:,} held-out sentences (seed {CUE_SEED}), gaps {CUE_GAPS[0]}-{CUE_GAPS[1]}",
    )


def _adding(model: SequenceModel) -> Corpus:
    t = int(model.config.extra.get("T", adding.AddingConfig.T))
    x, y, marks = adding.make_batch(np.random.default_rng(ADDING_SEED), N_SEQUENCES, t)
    labels = [[f"{v:.2f}" + ("*" if m else "") for v, m in row] for row in x]
    return Corpus(
        "",
        "adding",
        list(x),
        labels,
        {"marks": marks.tolist(), "sum": y.tolist()},
        f"{N_SEQUENCES:,} held-out sequences of T={t} (seed {ADDING_SEED})",
    )


def _forecast(model: SequenceModel) -> Corpus:
    extra = model.config.extra
    variant = extra.get("variant")
    if variant not in forecast.CONFIGS:
        raise ValueError(
            f"this forecast model was trained on {variant!r}, which has no stored series; "
            "pass windows of your series to lstm_viz.corpus_trace directly"
        )
    series = variant_series(variant, extra.get("synthetic"))
    scaling = forecast.scaling_of(model)
    x = scaling.to_input(series.values)  # (N - offset, 1): model step j is raw index j + offset
    o, unit = scaling.offset, f" {series.unit}".rstrip()
    window = min(forecast.CONFIGS[variant].window, len(x))
    starts = list(range(0, len(x) - window + 1, series.season))
    step_label = [
        f"{series.labels[j + o]}: {series.values[j + o]:.1f}{unit}" for j in range(len(x))
    ]
    return Corpus(
        "",
        "forecast",
        [x[a : a + window] for a in starts],
        [step_label[a : a + window] for a in starts],
        {"start": starts},
        f"the {variant} series in {len(starts)} windows of {window} steps, {series.season} apart",
    )


_BUILDERS = {"chars": _chars, "cue": _cue, "adding": _adding, "forecast": _forecast}
