"""What a user hands the app, turned into model inputs: typed text, numbers, CSV files and
generated series (uploaded model files: `lstm_viz.model_files`, limits: `lstm_viz.limits`).

No Streamlit here: every function takes plain values and returns arrays (or a module), and bad
input raises a ValueError whose message says what to change, so the app can show it as is and a
notebook gets the same message.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

import numpy as np
from torch import nn

# the limits and the model-file loader live in their own modules; importable from here as before
from lstm_viz import limits
from lstm_viz.limits import MAX_COLUMNS, MAX_HIDDEN, MAX_STEPS, MAX_UPLOAD_BYTES  # noqa: F401
from lstm_viz.model_files import core_from_state_dict, load_model_file  # noqa: F401
from lstm_viz.models import SequenceModel
from lstm_viz.tasks import task_for


@dataclass
class UserInput:
    x: np.ndarray  # model input: ids (T,) int64 or values (T, F) float32
    labels: list[str]  # one readable label per step
    unknown: list[int] = field(default_factory=list)  # steps whose word the model does not know
    note: str | None = None  # something the user should know about how the input was read


def text_input(model: SequenceModel | nn.Module, text: str) -> UserInput:
    """Typed text -> input: the task's own tokenizer for token models, numbers otherwise."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("the text is empty; type a sentence (or numbers for a numeric model)")
    if not isinstance(model, SequenceModel) or not model.is_token_model:
        return numbers_input(model, parse_numbers(text))
    task = task_for(model)
    reads = task.reads if task is not None else None
    if reads == "characters":
        limits.check_length(len(text))
        ids = np.asarray(task.encode_text(text), dtype=np.int64)
        return UserInput(ids, [str(s) for s in task.step_labels(text)])
    if reads == "words" and task.read_text is not None:  # unknown words read as filler
        reading = task.read_text(text)
        if not reading.tokens:
            raise ValueError("the text has no words; type a sentence, e.g. " + _example(task))
        limits.check_length(len(reading.tokens))
        ids = np.asarray(model.tokens_to_ids(reading.tokens), dtype=np.int64)
        return UserInput(ids, list(reading.labels), list(reading.unknown), reading.note)
    if reads == "words":
        tokens = task.tokenize(text)
    elif all(len(t) == 1 for t in model.config.vocab):
        tokens = list(text)
    else:
        tokens = text.split()
    limits.check_length(len(tokens))
    return UserInput(np.asarray(model.tokens_to_ids(tokens), dtype=np.int64), list(tokens))


def _example(task) -> str:
    """A sentence to suggest: the task's first example, as its labels."""
    examples = task.examples()
    return repr(" ".join(examples[0].labels)) if examples else "a sentence"


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
    limits.check_length(len(arr))
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
    limits.check_length(len(values))
    if isinstance(model, SequenceModel) and model.is_token_model:
        raise ValueError("this model reads text, not numbers: type a sentence instead")
    need = input_size(model)
    task = task_for(model)
    scale = task.model_input if task is not None else None  # e.g. a forecast model's scaling
    if scale is not None and need == 1 and values.shape[1] == 1:
        try:
            x = np.asarray(scale(model, values[:, 0]), dtype=np.float32)  # (T - k, 1)
        except (KeyError, TypeError) as err:  # an uploaded checkpoint without its scaling
            raise ValueError(
                f"this model's config lacks its task's scaling ({err}); re-save it with "
                "lstm_viz.models.save_checkpoint after training"
            ) from None
        skip = len(values) - len(x)  # a model that reads changes has one step fewer
        if len(x) == 0:
            raise ValueError("give at least two values: this model reads changes between steps")
        return UserInput(_finite32(x), [f"{v:.4g}" for v in values[skip:, 0]])
    if values.shape[1] == 1 and need > 1:  # one column for a multi-feature model: the rest are 0
        values = np.hstack([values, np.zeros((len(values), need - 1))])
    if values.shape[1] != need:
        raise ValueError(
            f"the model reads {need} feature(s) per step but got {values.shape[1]}; "
            f"pick exactly {need} column(s)"
        )
    return UserInput(_finite32(values), [f"{v:.4g}" for v in values[:, 0]])


def _finite32(x: np.ndarray) -> np.ndarray:
    """x as float32 (what the model reads), or a ValueError where that overflows."""
    with np.errstate(over="ignore"):
        x = np.asarray(x).astype(np.float32)
    if not np.isfinite(x).all():
        raise ValueError(
            "some values are too large for the model's float32 (about 3.4e38 at most, less "
            "after its scaling); divide them by a constant first"
        )
    return x


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
    task = task_for(model)
    if task is not None and task.step_labels is not None:
        labels = [str(s) for s in task.step_labels("".join(vocab[i] for i in ids))]
    else:
        labels = [vocab[i] for i in ids]
    return UserInput(ids, labels)


def read_csv(data: bytes) -> dict[str, np.ndarray]:
    """Numeric columns of a CSV file, by header; non-numeric columns are left out."""
    import pandas as pd  # streamlit depends on pandas; imported late to keep `import` fast

    limits.check_upload_size(len(data), "CSV file", "keep only the rows and columns you need")
    if not data.strip():
        raise ValueError("the CSV file is empty; give a header row and at least one value row")
    if b"\x00" in data[:4096]:
        raise ValueError(
            "this is not a text CSV file (it holds binary bytes, or is UTF-16); "
            "export it as CSV in UTF-8"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")  # a legacy export: every byte maps to some character
    try:  # the delimiter from the first lines; a single column has none: read it as commas
        sep = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|").delimiter
    except csv.Error:
        sep = ","
    columns = text.split("\n", 1)[0].count(sep) + 1  # pandas takes seconds per 100k columns
    if columns > MAX_COLUMNS:
        raise ValueError(
            f"the CSV has {columns} columns; the app reads at most {MAX_COLUMNS}: "
            "keep only the columns you need"
        )
    # a semicolon file is usually a decimal-comma export (1,5); "1.5" still reads as a number
    decimal = "," if sep == ";" else "."
    try:
        frame = pd.read_csv(io.StringIO(text), nrows=MAX_STEPS + 1, sep=sep, decimal=decimal)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, csv.Error) as err:
        raise ValueError(
            f"could not read the CSV ({str(err).strip()}); give comma-separated columns"
        ) from None
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
