"""What a user hands the app, turned into model inputs: typed text, numbers, CSV files and
generated series (CSV parsing: `lstm_viz.csv_files`, uploaded model files:
`lstm_viz.model_files`, limits: `lstm_viz.limits`; all importable from here).

No Streamlit here: every function takes plain values and returns arrays (or a module), and bad
input raises a ValueError whose message says what to change, so the app can show it as is and a
notebook gets the same message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
from torch import nn

# the limits and the model-file loader live in their own modules; importable from here as before
from lstm_viz import limits
from lstm_viz.csv_files import CsvTable, column_values, read_csv, read_csv_table  # noqa: F401
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
    if not getattr(model, "is_token_model", False):
        need = input_size(model)
        return numbers_input(model, parse_numbers(text) if need == 1 else parse_rows(text, need))
    if not isinstance(model, SequenceModel):  # a loaded model has ids but no vocabulary
        ids = parse_numbers(text)
        if not np.array_equal(ids, np.round(ids)) or (ids < 0).any():
            raise ValueError("this model reads token ids: type whole numbers 0, 1, 2, ...")
        return UserInput(ids.astype(np.int64), [str(int(i)) for i in ids])
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


def parse_rows(text: str, width: int) -> np.ndarray:
    """Typed numbers for a model reading `width` per step: one step per line, `width` numbers on
    each (spaces or commas); a line of another width is refused, never padded."""
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    limits.check_length(len(lines))
    rows = []
    for k, line in enumerate(lines, 1):
        row = parse_numbers(line)
        if len(row) != width:
            raise ValueError(
                f"line {k} has {len(row)} number(s); this model reads {width} per step: type "
                f"{width} numbers on each line, one line per step"
            )
        rows.append(row)
    return np.vstack(rows)


def number_format(model) -> str:
    """How to type numbers for this model, e.g. '10 numbers per step, one step per line'."""
    need = input_size(model)
    if need == 1:
        return "one number per step (spaces or commas)"
    return f"{need} numbers per step, one step per line"


def input_size(model: SequenceModel | nn.Module) -> int:
    """Features per step the model reads (for a token model: 1 id)."""
    if getattr(model, "is_token_model", False):
        return 1
    if isinstance(model, SequenceModel):
        return model.config.input_size
    return model.input_size


def numbers_input(model: SequenceModel | nn.Module, values: np.ndarray) -> UserInput:
    """Raw values (T,) or (T, F) -> input; a forecast model's own scaling is applied first."""
    try:
        values = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(
            "the values must be numbers shaped (T,) or (T, F); drop text cells"
        ) from None
    if values.ndim not in (1, 2) or values.size == 0:
        raise ValueError(f"the values have shape {values.shape}; give (T,) or (T, F) numbers")
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


def _count(value, what: str, lo: int, hi: int) -> int:
    """An int in lo..hi from an int-like value (a widget's int, "30" from a link), else a
    ValueError that states the range."""
    try:
        n = int(value)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(
            f"{what} {str(value)[:20]!r} is not a whole number; choose {lo}..{hi}"
        ) from None
    if not lo <= n <= hi:
        raise ValueError(f"{what} {n} out of range; choose {lo}..{hi}")
    return n


def generated_series(length: int, seed: int = 0, noise: float = 0.1) -> np.ndarray:
    """A seeded mix of two sines plus Gaussian noise, (length,) float64."""
    length = _count(length, "length", 1, MAX_STEPS)
    if not limits.is_real(noise) or not 0 <= noise <= 10:
        raise ValueError(f"noise {str(noise)[:20]} out of range; choose 0..10")
    rng = np.random.default_rng(_count(seed, "seed", 0, 2**63 - 1))
    t = np.arange(int(length))
    period = rng.uniform(12, 48)
    wave = np.sin(2 * np.pi * t / period + rng.uniform(0, 2 * np.pi))
    wave += 0.5 * np.sin(2 * np.pi * t / (period * 3.7) + rng.uniform(0, 2 * np.pi))
    return wave + noise * rng.standard_normal(len(t))


def generated_tokens(model: SequenceModel, length: int, seed: int = 0) -> UserInput:
    """Random tokens from a token model's vocabulary (seeded): a sequence the model never saw."""
    length = _count(length, "length", 1, MAX_STEPS)
    seed = _count(seed, "seed", 0, 2**63 - 1)
    vocab = model.config.vocab
    ids = np.random.default_rng(seed).integers(0, len(vocab), length).astype(np.int64)
    task = task_for(model)
    if task is not None and task.step_labels is not None:
        labels = [str(s) for s in task.step_labels("".join(vocab[i] for i in ids))]
    else:
        labels = [vocab[i] for i in ids]
    return UserInput(ids, labels)
