"""The app's explicit limits on what a user can hand it, and the checks that state them.

Each limit is refused with a message that gives the number, so a student knows what to change.
"""

from __future__ import annotations

MAX_STEPS = 5000  # longest input the app traces; longer ones are refused with this number
MAX_UPLOAD_BYTES = 8 * 1024 * 1024  # matches server.maxUploadSize in .streamlit/config.toml
MAX_COLUMNS = 1000  # columns of a CSV file (pandas needs seconds per 100k columns)
MAX_HIDDEN = 1024  # largest hidden size of an uploaded module the app will build
MAX_LAYERS = 16  # most stacked layers of an uploaded module
# what the app's caches of traces, analyses, figures and uploaded models hold, all sessions
# together (lstm_viz/ui/budget_cache.py); a result heavier than this is used once, not kept
CACHE_BYTES = 1024 * 2**20
MAX_WEIGHT_BYTES = 4 * MAX_UPLOAD_BYTES  # tensors of an upload once unpacked (a zip may deflate)


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
