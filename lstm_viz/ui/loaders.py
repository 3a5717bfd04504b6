"""Cached access to models, task examples and traces.

Models are shared read-only across sessions (st.cache_resource); traces are cached by the model's
key and the input's bytes, so a rerun that changes no input recomputes nothing. Traces and
uploaded models go in the budgeted cache (`budget_cache`): a few at the limits are gigabytes.
"""

from __future__ import annotations

import hashlib

import numpy as np
import streamlit as st
import torch
from torch import nn

from lstm_viz.models import ModelConfig, SequenceModel, load_shipped, shipped_models
from lstm_viz.tasks import REGISTRY, shipped_task
from lstm_viz.trace_result import LSTMTrace
from lstm_viz.ui.budget_cache import cached

DEMO = "demo_untrained_lstm"  # always offered: works before any weights ship, and as a baseline


CORE_TITLES = {"lstm": "LSTM", "gru": "GRU", "rnn_tanh": "RNN (tanh)", "rnn_relu": "RNN (relu)"}


def model_names() -> list[str]:
    """Shipped models in the task registry's order (the long-gap cue task first: the app opens on
    it), then any other weights file in the package, then the demo."""
    shipped = set(shipped_models())
    known = [m.name for task in REGISTRY.values() for m in task.models if m.name in shipped]
    return [*known, *sorted(shipped - set(known)), DEMO]


def model_title(name: str) -> str:
    """The picker's title, e.g. 'forecast co2 · LSTM': task, variant and core from the registry."""
    if name == DEMO:
        return "demo: untrained LSTM (random weights)"
    try:
        task, m = shipped_task(name)
    except ValueError:  # a weights file the registry does not list: its name is all we know
        return name
    return f"{task.title}{' ' + m.variant if m.variant else ''} · {CORE_TITLES.get(m.core, m.core)}"


@st.cache_resource(show_spinner=False, max_entries=32)
def load_model(name: str) -> SequenceModel:
    """A shipped model (or the seeded untrained demo); shared by every session, never mutated."""
    if name == DEMO:
        with torch.random.fork_rng():  # seed locally: leave the global RNG as it was
            torch.manual_seed(0)
            model = SequenceModel(ModelConfig(core="lstm", input_size=1, hidden_size=64))
        return model.eval()
    return load_shipped(name)


@cached(max_entries=16)
def load_upload(data: bytes, answers: tuple[tuple[str, str], ...] = ()) -> nn.Module:
    """An uploaded model file (weights only) via `lstm_viz.load_model`, with the user's answers
    to what the file cannot say (e.g. nonlinearity="relu"); raises ValueError (ChoiceNeeded when
    it must ask) with a fix-it hint."""
    from lstm_viz.load import load_model as load_any

    return load_any(data, **dict(answers))


def upload_key(data: bytes, answers: dict) -> str:
    said = ",".join(f"{k}={v}" for k, v in sorted(answers.items()))
    return f"upload:{said}:{hashlib.sha256(data).hexdigest()[:16]}"


@st.cache_data(show_spinner=False, max_entries=16)
def task_examples(task: str, variant: str | None) -> list:
    """The task's examples (for the model's variant when the task has several); [] for a task or
    variant this version does not know (an uploaded checkpoint names its task: user input)."""
    found = REGISTRY.get(task) if isinstance(task, str) else None
    if found is None:
        return []
    try:
        return found.examples(variant)
    except ValueError:  # e.g. "custom": a forecast model trained on the user's own series
        return []


# a trace is steps x units x 6 maps x layers x 4 bytes (T=5000, H=1024, 16 layers: 2 GB, more
# than the whole budget: such a trace is recomputed per full run rather than kept)
@cached(max_entries=8, ttl=3600)
def run_trace(
    model_key: str, _model, x: np.ndarray, labels: tuple[str, ...]
) -> tuple[LSTMTrace, np.ndarray | None]:
    """(trace, per-step outputs or None for a bare core) of `_model` on one input."""
    if hasattr(_model, "trace"):  # a SequenceModel or a loaded whole model: it has a head
        return _model.trace(x, labels=list(labels))
    from lstm_viz.trace import trace

    xt = torch.as_tensor(np.asarray(x, dtype=np.float32))
    return trace(_model, xt, labels=list(labels)), None
