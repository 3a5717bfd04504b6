"""The contract every task fills in: a `Task` record says what the task offers the trainer, the app
and the tests; `Example` is one input it ships; `Shipped` is one pretrained model it made.

A task module ends with `TASK = Task(...)` and `lstm_viz.tasks.REGISTRY` collects them, so code
that needs a task looks it up by name instead of importing a module by name and probing it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from lstm_viz.models import SequenceModel
    from lstm_viz.tasks.fit import Progress

# extra measurements of a freshly trained model, merged into its metrics (lstm_viz.train passes
# the ones that read traces: the tasks sit upstream of trace and analysis and never import them)
Metrics = Callable[["SequenceModel"], dict]
READS = ("words", "characters", "numbers")  # what typed text becomes for a task's models


@dataclass
class Example:
    name: str  # short title shown in the app's picker
    x: np.ndarray  # model input: token ids (T,) int64 or values (T, F) float32
    labels: list[str]  # one readable label per step (the token, or the value as text)
    description: str = ""  # one or two sentences: what to look for


@dataclass(frozen=True)
class Shipped:
    name: str  # weights file stem in lstm_viz/weights, what load_shipped() takes
    core: str  # its ModelConfig.core: "lstm", "gru", "rnn_tanh" or "rnn_relu"
    variant: str | None = None  # its ModelConfig.extra["variant"] (tasks with several data sets)


@dataclass(frozen=True)
class Task:
    name: str  # ModelConfig.task of every model it trains; its key in REGISTRY
    title: str  # how the app names it, e.g. "long-gap cue"
    train_fn: Callable[..., tuple[SequenceModel, dict]]  # train_model(core, seed, steps, ...)
    evaluate: Callable[[SequenceModel], dict]  # metrics on the task's fixed held-out set
    examples_fn: Callable[..., list[Example]]  # examples(), or examples(variant=...)
    reads: str  # one of READS: "words" (tokenize), "characters" (encode_text) or "numbers"
    models: tuple[Shipped, ...] = ()  # the shipped models it trained, in the app's order
    variants: tuple[str, ...] = ()  # its data sets, the default first (none: one data set)
    tokenize: Callable[[str], list[str]] | None = None  # words: text -> vocabulary tokens
    # words, optional: text -> a reading with .tokens, .labels (as typed), .unknown (steps the
    # model does not know) and .note (a sentence for the user, or None); e.g. cue_words.read_text
    read_text: Callable[[str], object] | None = None
    encode_text: Callable[[str], np.ndarray] | None = None  # characters: text -> ids (T,)
    step_labels: Callable[[str], list[str]] | None = None  # characters: one visible label each
    # numbers: raw values (N,) -> model input (N - k, 1) with the model's own scaling, if it has one
    model_input: Callable[[SequenceModel, np.ndarray], np.ndarray] | None = None
    # per-step signals a cell may track, from the input's tokens: name -> (T,)
    signals: Callable[[list[str]], dict[str, np.ndarray]] | None = None

    def __post_init__(self):
        assert self.reads in READS, f"{self.name}: reads={self.reads!r}, not one of {READS}"
        assert self.reads != "words" or self.tokenize is not None, f"{self.name}: no tokenize"
        assert self.reads != "characters" or (self.encode_text and self.step_labels), self.name
        assert all(m.variant in (None, *self.variants) for m in self.models), self.name

    def check_variant(self, variant: str | None) -> str | None:
        """`variant`, or the default one when None; a ValueError names the task's variants."""
        if not self.variants:
            if variant is not None:
                raise ValueError(
                    f"the {self.name} task has one data set; drop the variant {variant!r}"
                )
            return None
        if variant is None:
            return self.variants[0]
        if variant not in self.variants:
            raise ValueError(
                f"unknown variant {variant!r} of the {self.name} task; "
                f"choose one of {', '.join(self.variants)}"
            )
        return variant

    def examples(self, variant: str | None = None) -> list[Example]:
        """The task's example inputs: for one variant, or for all when None. A task with one data
        set ignores `variant` (an uploaded checkpoint may carry any extra it likes)."""
        if not self.variants:
            return self.examples_fn()
        if variant is not None:
            self.check_variant(variant)
        return self.examples_fn(variant=variant)

    def train(
        self,
        core: str = "lstm",
        seed: int = 0,
        steps: int | None = None,
        progress: Progress | None = None,
        metrics: Metrics | None = None,
        variant: str | None = None,
    ) -> tuple[SequenceModel, dict]:
        """A freshly trained model (seeded) and its metrics, `metrics(model)` merged in."""
        chosen = self.check_variant(variant)
        kw = {"variant": chosen} if chosen is not None else {}
        return self.train_fn(
            core=core, seed=seed, steps=steps, progress=progress, metrics=metrics, **kw
        )

    def shipped(self, core: str, variant: str | None = None) -> Shipped | None:
        """The shipped model of this core (and variant), or None if none ships."""
        variant = self.check_variant(variant)
        return next((m for m in self.models if (m.core, m.variant) == (core, variant)), None)
