"""Cached access to models, task examples and traces.

Models are shared read-only across sessions (st.cache_resource); traces are cached by the model's
key and the input's bytes (st.cache_data), so a rerun that changes no input recomputes nothing.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import re

import numpy as np
import streamlit as st
import torch
from torch import nn

from lstm_viz.inputs import load_model_file
from lstm_viz.models import ModelConfig, SequenceModel, load_shipped, shipped_models
from lstm_viz.trace_result import LSTMTrace

DEMO = "demo_untrained_lstm"  # always offered: works before any weights ship, and as a baseline


def model_names() -> list[str]:
    """Shipped models (the long-gap cue task first: the app opens on it), then the demo."""
    first = ("cue", "chars", "adding", "forecast")
    rank = {t: k for k, t in enumerate(first)}
    cores = ("lstm", "gru", "rnn_tanh", "rnn_relu")

    def key(name: str) -> tuple:
        core = next((c for c in cores if name.endswith("_" + c)), "")
        return (
            rank.get(name.split("_")[0], len(first)),
            name[: -len(core) - 1],
            cores.index(core) if core else 9,
        )

    names = sorted(shipped_models(), key=key)
    return [*names, DEMO]


def model_title(name: str) -> str:
    if name == DEMO:
        return "demo: untrained LSTM (random weights)"
    for core in ("rnn_tanh", "rnn_relu", "lstm", "gru"):
        if name.endswith("_" + core):
            task = name[: -len(core) - 1].replace("_", " ")
            return f"{task} · {core.replace('_', ' ').upper().replace('RNN TANH', 'RNN (tanh)')}"
    return name


@st.cache_resource(show_spinner=False, max_entries=32)
def load_model(name: str) -> SequenceModel:
    """A shipped model (or the seeded untrained demo); shared by every session, never mutated."""
    if name == DEMO:
        with torch.random.fork_rng():  # seed locally: leave the global RNG as it was
            torch.manual_seed(0)
            model = SequenceModel(ModelConfig(core="lstm", input_size=1, hidden_size=64))
        return model.eval()
    return load_shipped(name)


@st.cache_resource(show_spinner=False, max_entries=16)
def load_upload(data: bytes, kind: str) -> SequenceModel | nn.Module:
    """An uploaded model file (weights only); raises ValueError with a fix-it hint."""
    return load_model_file(data, kind)


def upload_key(data: bytes, kind: str) -> str:
    return f"upload:{kind}:{hashlib.sha256(data).hexdigest()[:16]}"


@st.cache_data(show_spinner=False, max_entries=16)
def task_examples(task: str, variant: str | None) -> list:
    """The task's examples (for the model's variant when the task has several)."""
    if not re.fullmatch(r"[a-z_]+", task):  # an uploaded checkpoint names its task: user input
        return []
    try:
        module = importlib.import_module(f"lstm_viz.tasks.{task}")
    except ImportError:
        return []
    fn = getattr(module, "examples", None)
    if fn is None:
        return []
    try:
        if variant and "variant" in inspect.signature(fn).parameters:
            return fn(variant=variant)
        return fn()
    except (ValueError, KeyError, TypeError):  # e.g. a variant this version does not know
        return []


# a trace is up to steps x units x 6 maps x 4 bytes (T=5000, H=1024: ~120 MB): keep few
@st.cache_data(show_spinner=False, max_entries=8, ttl=3600)
def run_trace(
    model_key: str, _model, x: np.ndarray, labels: tuple[str, ...]
) -> tuple[LSTMTrace, np.ndarray | None]:
    """(trace, per-step outputs or None for a bare core) of `_model` on one input."""
    if isinstance(_model, SequenceModel):
        return _model.trace(x, labels=list(labels))
    from lstm_viz.trace import trace

    xt = torch.as_tensor(np.asarray(x, dtype=np.float32))
    return trace(_model, xt, labels=list(labels)), None
