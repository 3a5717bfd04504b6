"""Interpretable cells: a character-level LSTM on text with quotes and nested brackets.

After Karpathy, Johnson & Fei-Fei (2015), "Visualizing and Understanding Recurrent Networks": a
model trained only to predict the next character grows single units that track whether it is
inside quotes and how deep it is in brackets. This module writes the text (seeded, from a small
vocabulary), trains the model (embedding -> core -> head over the characters), measures bits per
character on a fixed held-out text, and defines the signals a unit may follow:

- `inside_quotes(text)` (T,) 0/1 and `bracket_depth(text)` (T,) int, both *after* reading
  character t, which is what the state at step t can know (an opening quote is already inside,
  a closing one is outside again; '(' counts itself, ')' does not).

The search for the unit that best follows each signal reads traces, so it lives downstream in
`lstm_viz.probes.best_units`; `lstm_viz.train` records its result with the shipped model.

Why the text looks the way it does: speech inside quotes uses its own words, but more than half of
all words are shared by speech and narration, and every mark that can close a quote (. ? ! ,) also
ends clauses that stay inside or outside it. So the next character often depends on whether a
quote is open, and only a memory of the opening quote tells. In earlier versions of the text (seed
0, 64 units), wholly separate words let the model read the register off the last word, and its
best unit ramped up word by word (r 0.82); with all words shared it had no use for quotes (r 0.30).
The unit's cleanness still varies with the seed: seed 0 (shipped) gave r 0.93 after 2,250 steps,
seeds 1, 2, 3 gave 0.80, 0.88, 0.83; the bracket-depth unit was at 0.92-0.96 for all four.

The character set is fixed (`VOCAB`): text with any other character (capitals, digits, newlines)
raises a ValueError naming them; nothing is mapped silently to a stand-in symbol.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from lstm_viz.limits import listing
from lstm_viz.models import ModelConfig, SequenceModel, set_seed
from lstm_viz.tasks.fit import Progress, fit
from lstm_viz.tasks.task import Example, Metrics, Shipped, Task

VOCAB = list(' !"(),.?abcdefghijklmnopqrstuvwxyz')  # every character the generator writes
SPACE = "\u2423"  # '␣': how a space is labelled, so it is visible
HELDOUT_SEED = 20150605  # the held-out text's seed; training draws from the seed given instead
HELDOUT_CHARS = 2000  # length of the held-out text, evaluated as one sequence
MAX_DEPTH = 3  # brackets nest at most this deep
P_SHARED = 0.6  # chance that a word comes from SHARED, which does not tell speech from narration

NARRATION = (
    "quick brown fox jumps over lazy dog old man walked town with his friend they saw big cat on "
    "wall was cold day june she found box wax by river went home then"
).split()
SPEECH = (
    "i you we will go now yes no please come here think very maybe just do know why my your quiz "
    "easy hard look this can help me"
).split()
SHARED = "the a and to is it not in of so at that for all".split()
NAMES = "anna ben kim joe zoe max".split()
SAID = "said asked replied shouted".split()

_INDEX = {c: i for i, c in enumerate(VOCAB)}


@dataclass
class CharsConfig:
    hidden_size: int = 64  # units of the recurrent core
    embed_size: int = 16  # width of the character embedding
    seq_len: int = 300  # characters per training sequence, each a fresh document from its start
    batch_size: int = 32
    steps: int = 3000  # about 3 minutes on one thread
    lr: float = 3e-3


# --- text ----------------------------------------------------------------------------------


def _pick(rng: np.random.Generator, pool: list[str]) -> str:
    return pool[rng.integers(len(pool))]


def _words(rng: np.random.Generator, pool: list[str], lo: int, hi: int) -> str:
    n = rng.integers(lo, hi + 1)
    return " ".join(_pick(rng, SHARED if rng.random() < P_SHARED else pool) for _ in range(n))


def _aside(rng: np.random.Generator, pool: list[str], depth: int = 1) -> str:
    """A bracketed remark, which may hold a deeper one: (a b (c (d)) e)."""
    parts = [_words(rng, pool, 1, 4)]
    if depth < MAX_DEPTH and rng.random() < 0.5:
        parts.append(_aside(rng, pool, depth + 1))
        if rng.random() < 0.5:
            parts.append(_words(rng, pool, 1, 3))
    return "(" + " ".join(parts) + ")"


def _clause(rng: np.random.Generator, pool: list[str]) -> str:
    """Words, sometimes with an aside, ending in a mark: . most often, else ? ! or ,"""
    parts = [_words(rng, pool, 2, 6)]
    if rng.random() < 0.4:
        parts += [_aside(rng, pool), _words(rng, pool, 1, 4)]
    end = ".?!,"[rng.integers(4)] if rng.random() < 0.5 else "."
    return " ".join(parts) + end


def _sentence(rng: np.random.Generator) -> str:
    if rng.random() < 0.5:  # narration: the dog, a cat (on the wall) went home.
        return " ".join(_clause(rng, NARRATION) for _ in range(rng.integers(1, 3)))[:-1] + "."
    speech = " ".join(_clause(rng, SPEECH) for _ in range(rng.integers(1, 4)))
    if rng.random() < 0.5:  # "come here (now)! we go."
        return f'"{speech}"'
    return f'"{speech}" {_pick(rng, NAMES)} {_pick(rng, SAID)}.'  # "come here," anna said.


def _document(rng: np.random.Generator, n_chars: int) -> str:
    text = ""
    while len(text) < n_chars:
        text += _sentence(rng) + " "
    return text[:n_chars]


def generate_text(n_chars: int = 1000, seed: int = 0) -> str:
    """Deterministic text of exactly `n_chars` characters: narration, speech, nested brackets."""
    if n_chars < 1:
        raise ValueError(f"n_chars must be at least 1, got {n_chars}")
    return _document(np.random.default_rng(seed), n_chars)


def heldout_text() -> str:
    """The fixed held-out text every evaluation uses (2,000 characters)."""
    return generate_text(HELDOUT_CHARS, HELDOUT_SEED)


# --- signals and encoding ------------------------------------------------------------------


def inside_quotes(text: str) -> np.ndarray:
    """(T,) 1 where a quote is open after reading character t, else 0.

    Every '"' toggles, so the opening quote is 1 and the closing quote is 0.
    """
    toggles = np.array([c == '"' for c in text], dtype=np.int64)
    return np.cumsum(toggles) % 2


def bracket_depth(text: str) -> np.ndarray:
    """(T,) how many brackets are open after reading character t: '(' counts itself, ')' not.

    A ')' with nothing open leaves the depth at 0 (the user's text need not be balanced).
    """
    depth, out = 0, np.zeros(len(text), dtype=np.int64)
    for t, c in enumerate(text):
        depth = depth + 1 if c == "(" else max(depth - 1, 0) if c == ")" else depth
        out[t] = depth
    return out


SIGNALS = {"quote": inside_quotes, "bracket": bracket_depth}  # metric prefix -> signal


def signals(tokens: list[str]) -> dict[str, np.ndarray]:
    """The per-step signals a cell may track, for the characters `tokens`: name -> (T,) float."""
    text = "".join(tokens)
    return {
        "inside quotes": inside_quotes(text).astype(np.float64),
        "bracket depth": bracket_depth(text).astype(np.float64),
    }


def encode_text(text: str) -> np.ndarray:
    """Character ids (T,) int64; characters outside `VOCAB` raise a ValueError naming them."""
    if not text:
        raise ValueError("the text is empty; type at least one character")
    unknown = sorted({c for c in text if c not in _INDEX})
    if unknown:
        shown = listing(unknown)
        raise ValueError(
            f"the model has never seen {shown}; use lowercase letters, spaces and "
            f"{' '.join(VOCAB[1:8])} only (try text.lower(), and drop digits and newlines)"
        )
    return np.array([_INDEX[c] for c in text], dtype=np.int64)


def step_labels(text: str) -> list[str]:
    """One label per character, a space shown as '␣'."""
    return [SPACE if c == " " else c for c in text]


# --- model, training, evaluation -----------------------------------------------------------


def build_model(core: str = "lstm", cfg: CharsConfig | None = None) -> SequenceModel:
    cfg = cfg or CharsConfig()
    config = ModelConfig(
        core=core,
        vocab=list(VOCAB),
        embed_size=cfg.embed_size,
        hidden_size=cfg.hidden_size,
        output_size=len(VOCAB),
        output_labels=step_labels("".join(VOCAB)),
        task="chars",
    )
    return SequenceModel(config)


def _loss(model: SequenceModel, ids: torch.Tensor) -> torch.Tensor:
    """Mean next-character cross-entropy (nats) over ids (B, T + 1)."""
    logits = model(ids[:, :-1])  # (B, T, V)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1))


def make_batch(rng: np.random.Generator, batch_size: int, seq_len: int) -> torch.Tensor:
    """(B, seq_len + 1) ids: each row a fresh document from its start (a zero state fits it)."""
    return torch.as_tensor(
        np.stack([encode_text(_document(rng, seq_len + 1)) for _ in range(batch_size)])
    )


def train_model(
    core: str = "lstm",
    seed: int = 0,
    steps: int | None = None,
    progress: Progress | None = None,
    metrics: Metrics | None = None,
    cfg: CharsConfig | None = None,
) -> tuple[SequenceModel, dict]:
    """Train on seeded documents, then evaluate on the held-out text and merge in
    `metrics(model)` (`lstm_viz.train` passes the unit search, `lstm_viz.probes.chars_units`)."""
    cfg = cfg or CharsConfig()
    steps = cfg.steps if steps is None else steps
    rng = set_seed(seed)
    model = build_model(core, cfg)
    losses = fit(
        model,
        lambda _step: make_batch(rng, cfg.batch_size, cfg.seq_len),
        _loss,
        steps,
        lr=cfg.lr,
        progress=progress,
    )
    found = evaluate(model)
    found.update(
        core=core,
        steps=steps,
        hidden_size=cfg.hidden_size,
        seq_len=cfg.seq_len,
        batch_size=cfg.batch_size,
        lr=cfg.lr,
        final_train_bpc=round(float(np.mean(losses[-100:]) / np.log(2)), 4),
    )
    if metrics is not None:
        found.update(metrics(model))
    return model, found


@torch.no_grad()
def evaluate(model: SequenceModel) -> dict:
    """Bits per character on the held-out text (its quote and bracket units: lstm_viz.probes)."""
    text = heldout_text()
    model.eval()
    bpc = float(_loss(model, torch.as_tensor(encode_text(text))[None])) / np.log(2)
    return {"bpc": round(float(bpc), 4), "heldout_chars": len(text)}


# --- examples for the app ------------------------------------------------------------------

_EXAMPLES = [
    (
        "quotes",
        '"we will go now (please), look at this quiz!" anna said. the dog ran home.',
        "Find the unit that switches on at the opening quote and off at the closing one.",
    ),
    (
        "nested brackets",
        "the old man (with his friend (and a cat (on the wall)) in june) walked to town.",
        "Three levels of brackets: look for a unit that steps at each '(' and back at ')'.",
    ),
    (
        "both",
        '"i think (maybe (just maybe)) you know," ben said. she found a box (of wax).',
        "Quotes and brackets together: do the two units keep to their own signal?",
    ),
]


def examples() -> list[Example]:
    """Hand-written texts with quotes and nested brackets; labels are the characters."""
    return [Example(name, encode_text(t), step_labels(t), desc) for name, t, desc in _EXAMPLES]


TASK = Task(
    name="chars",
    title="character model",
    train_fn=train_model,
    evaluate=evaluate,
    examples_fn=examples,
    reads="characters",
    encode_text=encode_text,
    step_labels=step_labels,
    signals=signals,
    models=(Shipped("chars_lstm", "lstm"),),
)
