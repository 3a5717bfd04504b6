"""Long-gap memory: a cue near the start decides the answer at the end, after a filler gap.

Two kinds of cue, after the seed sentences:
- a name decides the pronoun: "as Martha proposed the bill in the house . She further in the
  statement proposed" (female names -> "She", male names -> "He");
- a town decides the state: "The speaker hailed from a town called Santa Fe ... New Mexico".

A sequence is a cue clause, `gap` filler tokens (neutral words: no names, towns, pronouns or
states), then a query clause; the model is trained to give the answer at the last token of the
query clause (the token just before the answer). The head scores every answer at every step, so
the app can show what the model would answer at each step. Multiword names ("Santa Fe", "New
Mexico") are single tokens: the tokenizer matches known phrases first.

What this does and does not show: the cue is a few bits (one of 6 answers), and a plain RNN can
hold a few bits in attractors of its hidden state as well as an LSTM holds them in its cell (see
docs/core_comparison.md: where the RNN errs, its errors do not grow with the gap). The adding
problem (adding.py), which needs real values held exactly, is the task that separates the cores.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from lstm_viz.limits import listing
from lstm_viz.models import ModelConfig, SequenceModel, set_seed
from lstm_viz.tasks.fit import Progress, fit
from lstm_viz.tasks.task import Example, Metrics, Shipped, Task

FEMALE = ["Martha", "Mary", "Anna", "Emma", "Susan", "Laura"]
MALE = ["John", "Peter", "David", "James", "Robert", "Thomas"]
TOWNS = {
    "Santa Fe": "New Mexico",
    "Albuquerque": "New Mexico",
    "Boston": "Massachusetts",
    "Worcester": "Massachusetts",
    "Austin": "Texas",
    "Houston": "Texas",
    "Denver": "Colorado",
    "Boulder": "Colorado",
}
ANSWERS = ["He", "She", "New Mexico", "Massachusetts", "Texas", "Colorado"]  # head outputs
CUE_ANSWER = {**{n: "She" for n in FEMALE}, **{n: "He" for n in MALE}, **TOWNS}

# cue clauses ("{}" is the cue), query clauses (answer follows the last token), suffixes
NAME_CLAUSES = ["as {} proposed the bill in the house", "when {} read the report to the committee"]
TOWN_CLAUSES = ["the speaker hailed from a town called {}", "the senator grew up in {}"]
NAME_QUERY, NAME_SUFFIX = ["."], ["further", "in", "the", "statement", "proposed"]
TOWN_QUERY, TOWN_SUFFIX = [".", "that", "town", "is", "in"], ["."]
FILLER_PHRASES = [
    "the members of the house listened to the speech for an hour .",
    "the committee read the report again .",
    "after a long debate the vote was close .",
    "the bill was about the new tax law ,",
    "in the session the budget was read to the members .",
    "the statement said that the plan was sound and the law was fair .",
    "a vote on the budget was set for the next session ,",
    "the house was full and the debate went on .",
]
_WORDS = " ".join(FILLER_PHRASES + NAME_CLAUSES + TOWN_CLAUSES + NAME_SUFFIX + TOWN_QUERY).split()
VOCAB = ["."] + sorted(set(_WORDS) - {".", "{}"}) + FEMALE + MALE + list(TOWNS) + ANSWERS
PAD_ID = 0  # "." pads batches after the query; a causal core never sees padding before it
_INDEX = {t: i for i, t in enumerate(VOCAB)}
_LOWER = {t.lower(): t for t in VOCAB}  # case-insensitive lookup -> canonical spelling
_MAX_WORDS = max(len(t.split()) for t in VOCAB)
_FILLER = [p.split() for p in FILLER_PHRASES]
EVAL_GAPS = (5, 10, 20, 50, 100, 200)
TEST_SEED = 31_337  # the fixed held-out sets (never used for training batches)


@dataclass
class CueConfig:
    min_gap: int = 0  # training gaps are drawn uniformly from [min_gap, max_gap]
    max_gap: int = 50
    embed_size: int = 16  # token embedding width
    hidden_size: int = 32  # units of the recurrent core
    batch_size: int = 64  # sequences per Adam step
    steps: int = 6000  # Adam steps
    lr: float = 1e-3  # Adam learning rate (the same protocol as the adding problem)
    clip: float = 1.0  # gradient-norm clip


def tokenize(text: str) -> list[str]:
    """Tokens of `text` in the task's vocabulary; known multiword phrases become one token."""
    words = re.findall(r"[A-Za-z']+|\d+|\S", text)  # words, numbers, any other mark
    tokens, unknown, i = [], [], 0
    while i < len(words):
        for n in range(min(_MAX_WORDS, len(words) - i), 0, -1):  # longest phrase first
            hit = _LOWER.get(" ".join(words[i : i + n]).lower())
            if hit:
                tokens.append(hit)
                i += n
                break
        else:
            unknown.append(words[i])
            i += 1
    if unknown:
        shown = listing(list(dict.fromkeys(unknown)))  # a few, then "… and 312 more"
        raise ValueError(
            f"unknown word(s) {shown}; use the task's vocabulary: names "
            f"({', '.join(FEMALE + MALE)}), towns ({', '.join(TOWNS)}), and filler words such "
            f"as {', '.join(VOCAB[2:14])} (see lstm_viz.tasks.cue.VOCAB)"
        )
    return tokens


def encode(tokens: list[str]) -> np.ndarray:
    """Token ids (T,) int64; unknown tokens raise a ValueError that names them."""
    unknown = [t for t in tokens if t not in _INDEX]
    if unknown:
        raise ValueError(f"tokens {unknown[:10]} are not in the vocabulary; run tokenize(text)")
    return np.array([_INDEX[t] for t in tokens], dtype=np.int64)


def cue_step(labels: list[str], cues: dict[str, str] | None = None) -> int | None:
    """The first step whose token is a cue (a name or town), else None.

    `cues` maps each cue to its answer: a model's own `config.extra["cue_answer"]`, or this
    task's CUE_ANSWER when None; an empty mapping (a model of another task) finds nothing.
    """
    cues = CUE_ANSWER if cues is None else cues
    return next((t for t, s in enumerate(labels) if s in cues), None)


def query_step(labels: list[str], cues: dict[str, str] | None = None) -> int | None:
    """The step where the model must answer the cue: the token before the first answer after
    the cue (the head scores the answer there), or the last step when the input stops at the
    query. None when there is no cue."""
    cues = CUE_ANSWER if cues is None else cues
    at = cue_step(labels, cues)
    if at is None:
        return None
    answers = set(cues.values())
    found = next((t for t in range(at + 1, len(labels)) if labels[t] in answers), None)
    return found - 1 if found is not None else len(labels) - 1


def filler(rng: np.random.Generator, gap: int) -> list[str]:
    """`gap` neutral tokens: a full stop, then random filler phrases joined, cut to length."""
    out = ["."]
    while len(out) < gap:
        out += _FILLER[rng.integers(len(_FILLER))]
    return out[:gap]


def make_sequence(
    rng: np.random.Generator, gap: int, kind: str | None = None
) -> tuple[list[str], int, str, list[str]]:
    """(tokens up to the query, cue position, answer, suffix) for a random cue ("name"/"town")."""
    if gap < 0:
        raise ValueError(f"gap={gap}: the gap is a number of filler tokens, use 0 or more")
    if kind not in (None, "name", "town"):
        raise ValueError(f"kind={kind!r}: choose 'name', 'town' or None (either, at random)")
    name = (kind or ("name" if rng.random() < 0.5 else "town")) == "name"
    cues, clauses = (FEMALE + MALE, NAME_CLAUSES) if name else (list(TOWNS), TOWN_CLAUSES)
    cue = cues[rng.integers(len(cues))]  # draw order fixed: the shipped weights depend on it
    clause = clauses[rng.integers(len(clauses))]
    query, suffix = (NAME_QUERY, NAME_SUFFIX) if name else (TOWN_QUERY, TOWN_SUFFIX)
    head = [cue if w == "{}" else w for w in clause.split()]
    tokens = head + filler(rng, gap) + query
    return tokens, head.index(cue), CUE_ANSWER[cue], suffix


def make_batch(rng: np.random.Generator, batch: int, gaps) -> tuple[np.ndarray, ...]:
    """ids (B, T_max) right-padded, query index (B,), answer class (B,), cue index (B,)."""
    gaps = np.broadcast_to(np.asarray(gaps), (batch,))
    seqs = [make_sequence(rng, int(g)) for g in gaps]
    width = max(len(s[0]) for s in seqs)
    ids = np.full((batch, width), PAD_ID, dtype=np.int64)
    for b, (tokens, _, _, _) in enumerate(seqs):
        ids[b, : len(tokens)] = encode(tokens)
    query = np.array([len(s[0]) - 1 for s in seqs])
    answer = np.array([ANSWERS.index(s[2]) for s in seqs])
    cue = np.array([s[1] for s in seqs])
    return ids, query, answer, cue


def _loss(model: SequenceModel, batch: tuple) -> torch.Tensor:
    ids, query, answer = batch
    logits = model(ids)[torch.arange(len(query)), query]  # (B, n_answers) at each query step
    return F.cross_entropy(logits, answer)


def build_model(core: str = "lstm", cfg: CueConfig | None = None) -> SequenceModel:
    """An untrained cue model: token embedding -> core -> scores for each answer at every step."""
    cfg = cfg or CueConfig()
    config = ModelConfig(
        core=core,
        vocab=list(VOCAB),
        embed_size=cfg.embed_size,
        hidden_size=cfg.hidden_size,
        output_size=len(ANSWERS),
        output_labels=list(ANSWERS),
        task="cue",
        extra={"train_gaps": [cfg.min_gap, cfg.max_gap], "cue_answer": dict(CUE_ANSWER)},
    )
    return SequenceModel(config)


@torch.no_grad()
def evaluate(model: SequenceModel, gaps=EVAL_GAPS, n: int = 200) -> dict:
    """Held-out accuracy at the query step per gap, on fixed seeded sets of `n` sequences."""
    was_training = model.training
    model.eval()
    acc = {}
    for gap in gaps:
        ids, query, answer, _ = make_batch(np.random.default_rng(TEST_SEED + gap), n, gap)
        pred = model(ids)[torch.arange(n), query].argmax(-1).numpy()  # (n,)
        acc[str(gap)] = round(float(np.mean(pred == answer)), 4)
    model.train(was_training)
    return {"accuracy_by_gap": acc, "n_test": n}


def train_model(
    core: str = "lstm",
    seed: int = 0,
    steps: int | None = None,
    progress: Progress | None = None,
    metrics: Metrics | None = None,
    cfg: CueConfig | None = None,
    gaps=EVAL_GAPS + (400,),
) -> tuple[SequenceModel, dict]:
    """Train on mixed gaps (seeded), then evaluate per gap and merge in `metrics(model)`
    (`lstm_viz.train` passes the memory analysis, `lstm_viz.probes.cue_memory`)."""
    cfg = cfg or CueConfig()
    steps = cfg.steps if steps is None else steps
    rng = set_seed(seed)
    model = build_model(core, cfg)

    def batch_fn(_step: int) -> tuple:
        gaps_b = rng.integers(cfg.min_gap, cfg.max_gap + 1, size=cfg.batch_size)
        ids, query, answer, _ = make_batch(rng, cfg.batch_size, gaps_b)
        return torch.from_numpy(ids), torch.from_numpy(query), torch.from_numpy(answer)

    losses = fit(model, batch_fn, _loss, steps, lr=cfg.lr, clip=cfg.clip, progress=progress)
    found = evaluate(model, gaps)
    found.update(
        core=core,
        steps=steps,
        train_gaps=[cfg.min_gap, cfg.max_gap],
        hidden_size=cfg.hidden_size,
        batch_size=cfg.batch_size,
        lr=cfg.lr,
        final_train_loss=round(float(np.mean(losses[-100:])), 5),
    )
    if metrics is not None:
        found.update(metrics(model))
    return model, found


def examples(gap: int = 100, n: int = 2, seed: int = 0) -> list[Example]:
    """The two seed sentences, then `n` generated sequences (names and towns) at `gap`."""
    seed_texts = [
        (
            "Martha ... She (seed)",
            "as Martha proposed the bill in the house . She further in the statement proposed",
            "The name Martha decides the pronoun; at the '.' before 'She' the model must say She.",
        ),
        (
            "Santa Fe ... New Mexico (seed)",
            "The speaker hailed from a town called Santa Fe . the members of the house listened "
            "to the speech for an hour . that town is in New Mexico .",
            "The town decides the state; at 'in' (the step before 'New Mexico') the model must "
            "answer New Mexico.",
        ),
    ]
    out = []
    for name, text, desc in seed_texts:
        tokens = tokenize(text)
        out.append(Example(name, encode(tokens), tokens, desc))
    rng = np.random.default_rng(seed)
    for k in range(n):
        tokens, cue_at, answer, suffix = make_sequence(rng, gap, ("name", "town")[k % 2])
        full = tokens + [answer] + suffix
        out.append(
            Example(
                name=f"{tokens[cue_at]} ... {answer} (gap {gap})",
                x=encode(full),
                labels=full,
                description=(
                    f"The cue {tokens[cue_at]!r} at step {cue_at} decides the answer {answer!r}; "
                    f"{gap} filler words later, at step {len(tokens) - 1} ({tokens[-1]!r}), "
                    "the model must give it. Look for cell units that hold still across the gap."
                ),
            )
        )
    return out


TASK = Task(
    name="cue",
    title="long-gap cue",
    train_fn=train_model,
    evaluate=evaluate,
    examples_fn=examples,
    reads="words",
    tokenize=tokenize,
    models=(
        Shipped("cue_lstm", "lstm"),
        Shipped("cue_gru", "gru"),
        Shipped("cue_rnn_tanh", "rnn_tanh"),
    ),
)
