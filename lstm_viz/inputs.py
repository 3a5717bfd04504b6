"""What a user hands the app, turned into model inputs: typed text, numbers, CSV files, generated
series and uploaded model files.

No Streamlit here: every function takes plain values and returns arrays (or a module), and bad
input raises a ValueError whose message says what to change, so the app can show it as is and a
notebook gets the same message.
"""

from __future__ import annotations

import csv
import importlib
import io
import re
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from lstm_viz.models import SequenceModel, load_checkpoint

MAX_STEPS = 5000  # longest input the app traces; longer ones are refused with this number
MAX_UPLOAD_BYTES = 8 * 1024 * 1024  # matches server.maxUploadSize in .streamlit/config.toml
MAX_HIDDEN = 1024  # largest hidden size of an uploaded module the app will build
_GATES = {"lstm": 4, "gru": 3, "rnn": 1}  # rows of weight_ih per hidden unit, per core kind


@dataclass
class UserInput:
    x: np.ndarray  # model input: ids (T,) int64 or values (T, F) float32
    labels: list[str]  # one readable label per step


def _check_length(n: int) -> None:
    if n == 0:
        raise ValueError("the input is empty; give at least one step")
    if n > MAX_STEPS:
        raise ValueError(f"the input has {n} steps; the app traces at most {MAX_STEPS}: cut it")


def _task_module(model: SequenceModel):
    """The task module that trained `model` (None for unknown or missing tasks)."""
    task = getattr(model, "config", None) and model.config.task
    if not task or not re.fullmatch(r"[a-z_]+", task):
        return None
    try:
        return importlib.import_module(f"lstm_viz.tasks.{task}")
    except ImportError:
        return None


def text_input(model: SequenceModel | nn.Module, text: str) -> UserInput:
    """Typed text -> input: the task's own tokenizer for token models, numbers otherwise."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("the text is empty; type a sentence (or numbers for a numeric model)")
    if not isinstance(model, SequenceModel) or not model.is_token_model:
        return numbers_input(model, parse_numbers(text))
    task = _task_module(model)
    if task is not None and hasattr(task, "encode_text"):  # character models
        _check_length(len(text))
        ids = np.asarray(task.encode_text(text), dtype=np.int64)
        labels = task.step_labels(text) if hasattr(task, "step_labels") else list(text)
        return UserInput(ids, [str(s) for s in labels])
    if task is not None and hasattr(task, "tokenize"):
        tokens = task.tokenize(text)
    elif all(len(t) == 1 for t in model.config.vocab):
        tokens = list(text)
    else:
        tokens = text.split()
    _check_length(len(tokens))
    return UserInput(np.asarray(model.tokens_to_ids(tokens), dtype=np.int64), list(tokens))


def parse_numbers(text: str) -> np.ndarray:
    """'1, 2.5 3e-1' -> array([1. , 2.5, 0.3]); anything that is not a number is refused."""
    parts = [p for p in re.split(r"[\s,;]+", text.strip()) if p]
    values = []
    for p in parts:
        try:
            values.append(float(p))
        except ValueError:
            raise ValueError(
                f"{p[:20]!r} is not a number; this model reads numbers: type them separated by "
                "spaces or commas, e.g. 0.5, 1.2, -0.3"
            ) from None
    arr = np.asarray(values, dtype=np.float64)
    if not np.isfinite(arr).all():
        raise ValueError("the numbers contain NaN or inf; give finite values only")
    _check_length(len(arr))
    return arr


def input_size(model: SequenceModel | nn.Module) -> int:
    """Features per step the model reads (for a token model: 1 id)."""
    if isinstance(model, SequenceModel):
        return 1 if model.is_token_model else model.config.input_size
    return model.input_size


def numbers_input(model: SequenceModel | nn.Module, values: np.ndarray) -> UserInput:
    """Raw values (T,) or (T, F) -> input; a forecast model's own scaling is applied first."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 1:
        values = values[:, None]
    if not np.isfinite(values).all():
        raise ValueError("the values contain NaN or inf; drop or fill those rows first")
    _check_length(len(values))
    if isinstance(model, SequenceModel) and model.is_token_model:
        raise ValueError("this model reads text, not numbers: type a sentence instead")
    need = input_size(model)
    task = _task_module(model) if isinstance(model, SequenceModel) else None
    if task is not None and hasattr(task, "model_input") and need == 1 and values.shape[1] == 1:
        x = np.asarray(task.model_input(model, values[:, 0]), dtype=np.float32)  # (T - offset, 1)
        skip = len(values) - len(x)  # a model that reads changes has one step fewer
        if len(x) == 0:
            raise ValueError("give at least two values: this model reads changes between steps")
        return UserInput(x, [f"{v:.4g}" for v in values[skip:, 0]])
    if values.shape[1] == 1 and need > 1:  # one column for a multi-feature model: the rest are 0
        values = np.hstack([values, np.zeros((len(values), need - 1))])
    if values.shape[1] != need:
        raise ValueError(
            f"the model reads {need} feature(s) per step but got {values.shape[1]}; "
            f"pick exactly {need} column(s)"
        )
    return UserInput(values.astype(np.float32), [f"{v:.4g}" for v in values[:, 0]])


def generated_series(length: int, seed: int = 0, noise: float = 0.1) -> np.ndarray:
    """A seeded mix of two sines plus Gaussian noise, (length,) float64."""
    if not 1 <= int(length) <= MAX_STEPS:
        raise ValueError(f"length {length} out of range; choose 1..{MAX_STEPS}")
    if not 0 <= noise <= 10:
        raise ValueError(f"noise {noise} out of range; choose 0..10")
    rng = np.random.default_rng(int(seed))
    t = np.arange(int(length))
    period = rng.uniform(12, 48)
    wave = np.sin(2 * np.pi * t / period + rng.uniform(0, 2 * np.pi))
    wave += 0.5 * np.sin(2 * np.pi * t / (period * 3.7) + rng.uniform(0, 2 * np.pi))
    return wave + noise * rng.standard_normal(len(t))


def generated_tokens(model: SequenceModel, length: int, seed: int = 0) -> UserInput:
    """Random tokens from a token model's vocabulary (seeded): a sequence the model never saw."""
    if not 1 <= int(length) <= MAX_STEPS:
        raise ValueError(f"length {length} out of range; choose 1..{MAX_STEPS}")
    vocab = model.config.vocab
    ids = np.random.default_rng(int(seed)).integers(0, len(vocab), int(length)).astype(np.int64)
    task = _task_module(model)
    if task is not None and hasattr(task, "step_labels"):
        labels = [str(s) for s in task.step_labels("".join(vocab[i] for i in ids))]
    else:
        labels = [vocab[i] for i in ids]
    return UserInput(ids, labels)


def read_csv(data: bytes) -> dict[str, np.ndarray]:
    """Numeric columns of a CSV file, by header; non-numeric columns are left out."""
    import pandas as pd  # streamlit depends on pandas; imported late to keep `import` fast

    if len(data) > MAX_UPLOAD_BYTES:
        raise ValueError(
            f"the file is {len(data) / 1e6:.1f} MB; the limit is "
            f"{MAX_UPLOAD_BYTES / 1e6:.0f} MB: keep only the column you need"
        )
    if not data.strip():
        raise ValueError("the CSV file is empty; give a header row and at least one value row")
    if b"\x00" in data[:4096]:
        raise ValueError("this is not a text CSV file (it holds binary bytes); export it as CSV")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")  # a legacy export: every byte maps to some character
    try:  # the delimiter from the first lines; a single column has none: read it as commas
        sep = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|").delimiter
    except csv.Error:
        sep = ","
    try:
        frame = pd.read_csv(io.StringIO(text), nrows=MAX_STEPS + 1, sep=sep)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, csv.Error) as err:
        raise ValueError(f"could not read the CSV ({err}); give comma-separated columns") from None
    if len(frame) == 0:
        raise ValueError("the CSV has a header but no rows; add at least one row of values")
    if len(frame) > MAX_STEPS:
        raise ValueError(
            f"the CSV has more than {MAX_STEPS} rows; the app traces at most "
            f"{MAX_STEPS} steps: keep the part you want to look at"
        )
    columns = {}
    for name in frame.columns:
        col = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=np.float64)
        if np.isfinite(col).sum() > 0 and np.isfinite(col).mean() >= 0.5:
            columns[str(name)] = col
    if not columns:
        raise ValueError("the CSV has no numeric column; give at least one column of numbers")
    return columns


def column_values(columns: dict[str, np.ndarray], names: list[str]) -> np.ndarray:
    """The chosen columns as (T, F), refusing NaN / inf with the row numbers to fix."""
    if not names:
        raise ValueError("pick at least one column")
    missing = [n for n in names if n not in columns]
    if missing:
        raise ValueError(f"no numeric column {missing[0]!r}; choose one of {list(columns)}")
    values = np.column_stack([columns[n] for n in names])
    bad = np.flatnonzero(~np.isfinite(values).all(axis=1))
    if len(bad):
        rows = ", ".join(str(r + 2) for r in bad[:5])  # +2: 1-based, after the header line
        raise ValueError(f"rows {rows} hold empty, text, NaN or inf values; fill or drop them")
    return values


def load_model_file(data: bytes, kind: str = "auto") -> SequenceModel | nn.Module:
    """An uploaded lstm_viz checkpoint or plain nn.LSTM / GRU / RNN state_dict, as a module.

    Loaded with torch.load(weights_only=True): a file can hold tensors, never code to run.
    """
    if len(data) > MAX_UPLOAD_BYTES:
        raise ValueError(
            f"the model file is {len(data) / 1e6:.1f} MB; the limit is "
            f"{MAX_UPLOAD_BYTES / 1e6:.0f} MB"
        )
    try:
        blob = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many kinds for a bad file; the user needs one message
        raise ValueError(
            f"could not read this file as PyTorch weights ({type(err).__name__}); upload a "
            "state_dict saved with torch.save(lstm.state_dict(), path) or an lstm_viz checkpoint"
        ) from None
    if isinstance(blob, dict) and "config_json" in blob:
        import tempfile

        with tempfile.NamedTemporaryFile(suffix=".pt") as f:  # load_checkpoint reads a path
            f.write(data)
            f.flush()
            return load_checkpoint(f.name)
    if isinstance(blob, nn.Module) or not isinstance(blob, dict):
        raise ValueError("the file holds no state_dict; save one with torch.save(m.state_dict())")
    return core_from_state_dict(blob, kind)


def core_from_state_dict(state: dict, kind: str = "auto") -> nn.Module:
    """Build the nn.LSTM / GRU / RNN a state_dict belongs to (sizes read from its shapes)."""
    state = {k.removeprefix("core.").removeprefix("lstm."): v for k, v in state.items()}
    if "weight_ih_l0" not in state or "weight_hh_l0" not in state:
        keys = ", ".join(list(state)[:5])
        raise ValueError(
            f"this state_dict has no weight_ih_l0 / weight_hh_l0 (keys: {keys}); upload the "
            "state_dict of an nn.LSTM, nn.GRU or nn.RNN itself"
        )
    if not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError("the state_dict holds values that are not tensors; re-save it")
    w_ih, w_hh = state["weight_ih_l0"], state["weight_hh_l0"]
    proj = state["weight_hr_l0"].shape[0] if "weight_hr_l0" in state else 0
    hidden = state["weight_hr_l0"].shape[1] if proj else w_hh.shape[1]
    rows = w_ih.shape[0]
    guess = {v * hidden: k for k, v in _GATES.items()}.get(rows)
    if kind == "auto":
        if guess is None:
            raise ValueError(
                f"weight_ih_l0 has {rows} rows, not 4, 3 or 1 x hidden ({hidden}); "
                "this is not an LSTM, GRU or RNN state_dict"
            )
        kind = guess
    if kind not in _GATES:
        raise ValueError(f"unknown core {kind!r}; choose lstm, gru, rnn or auto")
    if rows != _GATES[kind] * hidden:
        seen = f" (it looks like a {guess.upper()})" if guess else ""
        raise ValueError(
            f"weight_ih_l0 has {rows} rows but an {kind.upper()} with hidden size "
            f"{hidden} needs {_GATES[kind] * hidden}{seen}; choose the right core"
        )
    if hidden > MAX_HIDDEN:
        raise ValueError(f"hidden size {hidden} is over the app's limit of {MAX_HIDDEN}")
    layers = 1 + max(int(m.group(1)) for k in state if (m := re.match(r"weight_ih_l(\d+)", k)))
    kw = dict(
        input_size=w_ih.shape[1],
        hidden_size=hidden,
        num_layers=layers,
        bias="bias_ih_l0" in state,
        bidirectional="weight_ih_l0_reverse" in state,
    )
    if kind == "lstm":
        module = nn.LSTM(proj_size=proj, **kw)
    elif kind == "gru":
        module = nn.GRU(**kw)
    else:
        module = nn.RNN(nonlinearity="tanh", **kw)
    try:
        module.load_state_dict(state)
    except RuntimeError as err:
        first = str(err).splitlines()[1].strip() if "\n" in str(err) else str(err)
        raise ValueError(f"the state_dict does not fit an {kind.upper()}: {first[:200]}") from None
    if not all(torch.isfinite(p).all() for p in module.parameters()):
        raise ValueError("the weights hold NaN or inf; retrain or re-save the model")
    return module.float().eval()
