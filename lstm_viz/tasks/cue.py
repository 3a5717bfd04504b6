"""Long-gap memory: a cue near the start decides the answer at the end, after a filler gap.

Two kinds of cue, after the seed sentences:
- a name decides the pronoun: "as Martha proposed the bill in the house . She further in the
  statement proposed" (female names -> "She", male names -> "He");
- a town decides the state: "The speaker hailed from a town called Santa Fe ... New Mexico".

A sequence is a cue clause, `gap` filler tokens, then a query clause; the model is trained to
give the answer at the last token of the query clause (the token just before the answer). The
filler is neutral: the task's phrases and runs of 2,894 everyday words (`cue_words`; no names,
towns, gendered pronouns or states), a tenth of them swapped for the unknown token, so any word
the model never saw reads as filler. 40% of training sequences are free sentences: a few random
words, the cue, the gap, and no query clause, so the question comes at whatever word the gap ends
on, as in typed text ("Yesterday Martha went ... and then she"). The head scores every answer
at every step, so the app shows what the model would answer at each step. Typed text becomes
tokens in `cue_words.read_text`; multiword names ("Santa Fe", "New Mexico") are single tokens.

What this does and does not show: the cue is a few bits (one of 6 answers), and a plain RNN can
hold a few bits in attractors of its hidden state as well as an LSTM holds them in its cell (see
docs/core_comparison.md: where the RNN errs, its errors do not grow with the gap). The adding
problem (adding.py), which needs real values held exactly, is the task that separates the cores.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from lstm_viz.models import ModelConfig, SequenceModel, set_seed
from lstm_viz.tasks.cue_words import (  # noqa: F401 (the task's words, importable from here)
    ANSWERS,
    CHIPS,
    CUE_ANSWER,
    FEMALE,
    FILLER_PHRASES,
    FILLER_WORDS,
    MALE,
    NAME_CLAUSES,
    NAME_QUERY,
    NAME_SUFFIX,
    PAD_ID,
    TEMPLATES,
    TOWN_CLAUSES,
    TOWN_QUERY,
    TOWN_SUFFIX,
    TOWNS,
    UNK,
    VOCAB,
    Reading,
    read_text,
    tokenize,
)
from lstm_viz.tasks.fit import Progress, fit
from lstm_viz.tasks.task import Example, Metrics, Shipped, Task

_INDEX = {t: i for i, t in enumerate(VOCAB)}
_FILLER = [p.split() for p in FILLER_PHRASES]
UNK_RATE = 0.1  # share of filler words swapped for UNK in training: unseen words read as filler
# the plain RNN sits on a loss plateau for about 7,000 steps on this data (at 6,000 it answered
# He for every name: 59% held out), so it gets twice the budget; the gated cores get cfg.steps
CORE_STEPS = {"rnn_tanh": 12000}
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
    # share of free training sentences (see make_sequence), asked at any word: typed sentences
    # ask before "She" or "New Mexico" wherever they like, after a '.', 'then' or 'that'
    free_query: float = 0.4


def encode(tokens: list[str]) -> np.ndarray:
    """Token ids (T,) int64; tokens outside VOCAB raise a ValueError (run tokenize on text)."""
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
    query. None when there is no cue. Works on tokens and on typed labels (`read_text`), where
    names, towns and answers keep their canonical spelling."""
    cues = CUE_ANSWER if cues is None else cues
    at = cue_step(labels, cues)
    if at is None:
        return None
    answers = set(cues.values())
    found = next((t for t in range(at + 1, len(labels)) if labels[t] in answers), None)
    return found - 1 if found is not None else len(labels) - 1


def filler(rng: np.random.Generator, gap: int) -> list[str]:
    """`gap` neutral tokens: a full stop, then chunks joined and cut to length. A chunk is one
    of the task's phrases or a run of 2-12 random everyday words ending in '.' or ','; each
    filler word is UNK with probability UNK_RATE, as a word the model does not know would be."""
    out = ["."]
    while len(out) < gap:
        if rng.random() < 0.3:
            out += _FILLER[rng.integers(len(_FILLER))]
        else:
            words = rng.integers(len(FILLER_WORDS), size=rng.integers(2, 13))
            out += [FILLER_WORDS[k] for k in words] + [".,"[rng.integers(2)]]
    return _swap_unk(rng, out[:gap])


def _swap_unk(rng: np.random.Generator, words: list[str]) -> list[str]:
    """`words` with each word (not '.' or ',') swapped for UNK with probability UNK_RATE."""
    swap = rng.random(len(words)) < UNK_RATE
    return [UNK if s and t not in ".," else t for t, s in zip(words, swap, strict=True)]


def make_sequence(
    rng: np.random.Generator, gap: int, kind: str | None = None, free: bool = False
) -> tuple[list[str], int, str, list[str]]:
    """(tokens up to the query, cue position, answer, suffix) for a random cue ("name"/"town").
    With `free`, a free sentence: 0-8 random words, the cue, the gap's words (no '.' first) and
    no query clause, so the question comes at whatever word the gap ends on."""
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
    if free:
        before = rng.integers(len(FILLER_WORDS), size=rng.integers(9))
        head = _swap_unk(rng, [FILLER_WORDS[k] for k in before]) + [cue]
        return head + filler(rng, gap + 1)[1:], len(head) - 1, CUE_ANSWER[cue], suffix
    tokens = head + filler(rng, gap) + query
    return tokens, head.index(cue), CUE_ANSWER[cue], suffix


def make_batch(
    rng: np.random.Generator, batch: int, gaps, free: float = 0.0
) -> tuple[np.ndarray, ...]:
    """ids (B, T_max) right-padded, query index (B,), answer class (B,), cue index (B,); a
    share `free` of the sequences has no query clause (no draws when 0: the held-out sets)."""
    gaps = np.broadcast_to(np.asarray(gaps), (batch,))
    ends = rng.random(batch) < free if free > 0 else np.zeros(batch, dtype=bool)
    seqs = [make_sequence(rng, int(g), free=bool(e)) for g, e in zip(gaps, ends, strict=True)]
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


def wilson(correct: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The 95% Wilson score interval of a proportion correct/n (sound at 0% and 100% too)."""
    if n <= 0:
        raise ValueError(f"n={n}: an interval needs at least one sample")
    p = correct / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, float(centre - half)), min(1.0, float(centre + half))


@torch.no_grad()
def evaluate(model: SequenceModel, gaps=EVAL_GAPS, n: int = 1000) -> dict:
    """Held-out accuracy at the query step per gap, on fixed seeded sets of `n` sequences (never
    used in training), each with its 95% Wilson interval."""
    was_training = model.training
    model.eval()
    acc, ci = {}, {}
    for gap in gaps:
        ids, query, answer, _ = make_batch(np.random.default_rng(TEST_SEED + gap), n, gap)
        pred = model(ids)[torch.arange(n), query].argmax(-1).numpy()  # (n,)
        right = int(np.sum(pred == answer))
        acc[str(gap)] = round(right / n, 4)
        ci[str(gap)] = [round(v, 4) for v in wilson(right, n)]
    model.train(was_training)
    return {"accuracy_by_gap": acc, "ci95_by_gap": ci, "n_test": n}


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
    steps = CORE_STEPS.get(core, cfg.steps) if steps is None else steps
    rng = set_seed(seed)
    model = build_model(core, cfg)

    def batch_fn(_step: int) -> tuple:
        gaps_b = rng.integers(cfg.min_gap, cfg.max_gap + 1, size=cfg.batch_size)
        ids, query, answer, _ = make_batch(rng, cfg.batch_size, gaps_b, cfg.free_query)
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
        free_query=cfg.free_query,
        unk_rate=UNK_RATE,
        final_train_loss=round(float(np.mean(losses[-100:])), 5),
    )
    if metrics is not None:
        found.update(metrics(model))
    return model, found


STORY_MARTHA = (
    "... as Martha proposed the bill in the house. She further in the statement proposed ..."
)
STORY_SANTA_FE = "The speaker hailed from a town called Santa Fe... New Mexico reportedly has ..."


def _typed(name: str, text: str, desc: str) -> Example:
    reading = read_text(text)
    return Example(name, encode(reading.tokens), reading.labels, desc)


def examples(gap: int = 100, n: int = 2, seed: int = 0) -> list[Example]:
    """The Martha story sentence, a Santa Fe sentence with a gap, `n` generated sequences (names
    and towns) at `gap`, then the Santa Fe story sentence (the lessons use indices 0-3)."""
    out = [
        _typed(
            "Martha ... She (seed)",  # the name keeps old links (ex=martha-she-seed) working
            STORY_MARTHA.strip(". "),  # the story's sentence as typed, without its elisions
            "The story's sentence as typed. The name Martha decides the pronoun; at the '.' "
            "before 'She' the model must say She.",
        ),
        _typed(
            "Santa Fe ... New Mexico (seed)",
            "The speaker hailed from a town called Santa Fe . the members of the house listened "
            "to the speech for an hour . that town is in New Mexico .",
            "The town decides the state; at 'in' (the step before 'New Mexico') the model must "
            "answer New Mexico.",
        ),
    ]
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
                    f"{gap} filler words later ({UNK} marks words the model reads as unknown), "
                    f"at step {len(tokens) - 1} ({tokens[-1]!r}), the model must give it. Look "
                    "for cell units that hold still across the gap."
                ),
            )
        )
    out.append(
        _typed(
            "Santa Fe... New Mexico (story)",
            STORY_SANTA_FE,
            "The story's sentence as typed. The town decides the state; at the '...' before "
            "'New Mexico' the model must answer New Mexico ('reportedly' is a word it does not "
            "know: it reads it as filler). The LSTM and GRU do; the shipped plain RNN does not "
            "(it says He, p 0.49): compare them in RNN vs GRU vs LSTM.",
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
    read_text=read_text,
    models=(
        Shipped("cue_lstm", "lstm"),
        Shipped("cue_gru", "gru"),
        Shipped("cue_rnn_tanh", "rnn_tanh"),
    ),
)
