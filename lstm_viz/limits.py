"""The app's explicit limits on what a user can hand it, and the checks that state them.

Each limit is refused with a message that gives the number, so a student knows what to change.
The model limits are applied by `lstm_viz.validate` to every model however it arrives (shipped,
checkpoint, state_dict); nothing is clipped to fit later.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

MAX_STEPS = 5000  # longest input the app traces; longer ones are refused with this number
MAX_UPLOAD_BYTES = 8 * 1024 * 1024  # matches server.maxUploadSize in .streamlit/config.toml
MAX_COLUMNS = 1000  # columns of a CSV file (pandas needs seconds per 100k columns)
MAX_HIDDEN = 1024  # largest hidden size of an uploaded module the app will build
MAX_LAYERS = 16  # most stacked layers of an uploaded module
# what the app's caches of traces, analyses, figures and uploaded models hold, all sessions
# together (lstm_viz/ui/budget_cache.py); a result heavier than this is used once, not kept
CACHE_BYTES = 1024 * 2**20
MAX_WEIGHT_BYTES = 4 * MAX_UPLOAD_BYTES  # tensors of an upload once unpacked (a zip may deflate)

# what a model description may claim (see lstm_viz.validate); each bounds memory per trace
MAX_INPUT_SIZE = 1024  # features per step of a core (a generated input is padded to this many)
MAX_EMBED = 1024  # embedding width of a token model
MAX_OUTPUTS = 2048  # head width: predictions cost steps x outputs floats per trace
MAX_VOCAB = 50_000  # tokens of a token model's vocabulary
MAX_LABEL_CHARS = 64  # one token, output label, unit or task name, in characters
MAX_HORIZON = 500  # forecast horizon, in steps (the Forecast view's longest forecast)
MAX_SERIES = MAX_STEPS  # length of a series stored with (or rebuilt for) a forecast model
MAX_SEASON = MAX_SERIES // 4  # steps per season (the seasonal baseline needs four seasons)
MAX_CONFIG_DEPTH = 8  # nesting of a checkpoint's `extra` (json.loads recurses on nesting)
MAX_CONFIG_ITEMS = 100_000  # values in a checkpoint's `extra`, all levels together

# the Python API
MAX_SERIES_ABS = 1e100  # largest |value| a forecast series may hold: squares stay finite
MAX_STATE_CLAMP = 1e4  # largest |value| a cell / hidden clamp may set (see interventions.py)
MAX_CLAMP_INDICES = 1_000_000  # steps or units listed in one Clamp (a range() may span more)
MAX_TRACE_BYTES = 512 * 2**20  # arrays LSTMTrace.load unpacks by default (max_bytes= raises it)
MAX_EXPORT_ROWS = 1_000_000  # rows of a CSV export (one number per row), see export.py


def mb(n: int) -> str:
    return f"{n / 2**20:.1f} MB"  # MiB, as Streamlit counts server.maxUploadSize


def check_upload_size(n: int, what: str, fix: str) -> None:
    if n > MAX_UPLOAD_BYTES:
        limit = MAX_UPLOAD_BYTES // 2**20
        raise ValueError(f"the {what} is {mb(n)}; the limit is {limit} MB: {fix}")


def check_length(n: int) -> None:
    if n == 0:
        raise ValueError("the input is empty; give at least one step")
    if n > MAX_STEPS:
        raise ValueError(f"the input has {n} steps; the app traces at most {MAX_STEPS}: cut it")


def listing(items, limit: int = 10, width: int = 30) -> str:
    """ "'a', 'b', ... and 312 more": a message names a few items, never echoes a whole input.

    Each item is cut to `width` characters; `items` may be any sized collection."""
    items = list(items) if not isinstance(items, (list, tuple)) else items
    shown = []
    for item in items[:limit]:
        text = item if isinstance(item, str) else str(item)
        shown.append(repr(text if len(text) <= width else text[: width - 1] + "…"))
    more = len(items) - len(shown)
    return ", ".join(shown) + (f" … and {more} more" if more > 0 else "")


def is_real(value) -> bool:
    """A finite int or float (not a bool): what a numeric config field may hold."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return False
    return isinstance(value, numbers.Integral) or math.isfinite(value)


def whole_number(value, what: str, example: int = 0) -> int:
    """`value` as an int if it is a whole number (int or numpy integer, not bool), else a
    ValueError: a float or a string here is a mistake that indexing would hide or crash on."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:39] + "…"
        raise ValueError(f"{what} must be a whole number, got {shown}; e.g. {what}={example}")
    return int(value)
