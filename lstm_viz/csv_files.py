"""Uploaded CSV files -> numeric columns, with bounded work and nothing dropped in silence.

Before pandas sees the file, every line's field count is read with `str.count` (no row is built):
a line wider than MAX_COLUMNS, or a row with more values than the header names (pandas would
quietly make the first column the index and shift every other one), is refused. Columns that do
not parse as numbers are returned with the reason (`CsvTable.dropped`), and columns that count
rows (0, 1, 2, ... or any steadily rising stamp) are flagged so the app never picks them by
default (`CsvTable.index_like`).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

import numpy as np

from lstm_viz import limits
from lstm_viz.limits import MAX_COLUMNS, MAX_STEPS, listing

_THOUSANDS = re.compile(r"[-+]?\d{1,3}(,\d{3})+(\.\d*)?")  # 1,200.5 written with a separator


@dataclass
class CsvTable:
    columns: dict[str, np.ndarray]  # numeric columns by header, in file order, (N,) float64
    dropped: dict[str, str] = field(default_factory=dict)  # header -> why it was left out
    index_like: list[str] = field(default_factory=list)  # numeric columns that count rows

    def default_columns(self, n: int = 1) -> list[str]:
        """The first `n` columns worth tracing: index-like ones only when nothing else is left."""
        names = [c for c in self.columns if c not in self.index_like] or list(self.columns)
        return names[:n]

    def notes(self) -> list[str]:
        """One sentence per column left out or passed over, for the app to show."""
        out = [f"Column {name!r} was left out: {why}." for name, why in self.dropped.items()]
        picked = self.default_columns(len(self.columns))
        for name in self.index_like:
            if name not in picked:
                out.append(
                    f"Column {name!r} only rises (a row number or time stamp?), so it is "
                    "not picked by default."
                )
        return out


def read_csv_table(data: bytes) -> CsvTable:
    """Numeric columns of a CSV file, the columns left out and why, and index-like columns."""
    text, sep = _decode(data)
    _check_widths(text, sep)
    import pandas as pd  # streamlit depends on pandas; imported late to keep `import` fast

    # a semicolon file is usually a decimal-comma export (1,5); "1.5" still reads as a number
    decimal = "," if sep == ";" else "."
    try:
        frame = pd.read_csv(
            io.StringIO(text), nrows=MAX_STEPS + 1, sep=sep, decimal=decimal, index_col=False
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, csv.Error) as err:
        raise ValueError(
            f"could not read the CSV ({str(err).strip()[:200]}); give comma-separated columns"
        ) from None
    if len(frame) == 0:
        raise ValueError("the CSV has a header but no rows; add at least one row of values")
    if len(frame) > MAX_STEPS:
        raise ValueError(
            f"the CSV has more than {MAX_STEPS} rows; the app traces at most "
            f"{MAX_STEPS} steps: keep the part you want to look at"
        )
    table = CsvTable({})
    for name in frame.columns:
        raw = frame[name]
        col = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64)
        finite = np.isfinite(col)
        if finite.sum() > 0 and finite.mean() >= 0.5:
            table.columns[str(name)] = col
            if len(col) > 1 and finite.all() and (np.diff(col) > 0).all():
                table.index_like.append(str(name))
        else:
            table.dropped[str(name)] = _why_dropped(raw, col)
    if not table.columns:
        why = "; ".join(f"{n!r}: {w}" for n, w in list(table.dropped.items())[:5])
        raise ValueError(
            f"the CSV has no numeric column ({why}); give at least one column of numbers"
        )
    return table


def read_csv(data: bytes) -> dict[str, np.ndarray]:
    """Numeric columns of a CSV file, by header (the reasons for the rest: `read_csv_table`)."""
    return read_csv_table(data).columns


def _decode(data: bytes) -> tuple[str, str]:
    """(text, separator) of an upload, or a ValueError for empty, binary or huge files."""
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
    return text, sep


def _fields(line: str, sep: str, limit: int | None = None) -> int:
    """Fields on one physical line: separators outside double quotes, plus one. With `limit`,
    a count at or under it is returned without the (slower) quote-aware count: quotes can only
    lower it."""
    n = line.count(sep) + 1
    if '"' not in line or (limit is not None and n <= limit):
        return n
    return re.sub(r'"[^"]*"?', "", line).count(sep) + 1  # quoted text (even unclosed) holds none


def _check_widths(text: str, sep: str) -> None:
    """Refuse a line wider than MAX_COLUMNS, or a row with more values than the header names,
    counting separators only (pandas would build a 200,000-field row before any check)."""
    lines = io.StringIO(text, newline=None)  # universal newlines: \n, \r\n and \r
    header = None
    for number, line in enumerate(lines, start=1):
        if number > MAX_STEPS + 2:
            break  # pandas reads MAX_STEPS + 1 rows, then the row limit refuses the rest
        if not line.strip():
            continue
        width = _fields(line, sep, None if header is None else MAX_COLUMNS)
        if width > MAX_COLUMNS:
            raise ValueError(
                f"line {number} of the CSV has {width} fields; the app reads at most "
                f"{MAX_COLUMNS} columns: keep only the columns you need"
            )
        if header is None:
            header = width
            continue
        used = _fields(line.rstrip().rstrip(sep), sep, header)  # trailing empties are harmless
        if used > header:
            raise ValueError(
                f"row {number} of the CSV has {used} values but the header names {header} "
                "column(s): give every column a name in the header (an index column too)"
            )


def _why_dropped(raw, col: np.ndarray) -> str:
    """Why a column is not numeric enough, naming a few of its cells."""
    n = len(col)
    texts = [str(v) for v in raw[np.isnan(col) & raw.notna().to_numpy()]]
    if any(_THOUSANDS.fullmatch(t.strip()) for t in texts):
        return (
            f"{len(texts)} of {n} values are not numbers (e.g. {listing(texts, 3)}): "
            "remove the thousands separators"
        )
    if texts:
        return f"{len(texts)} of {n} values are not numbers (e.g. {listing(texts, 3)})"
    infinite = int(np.isinf(col).sum())
    if infinite:
        return f"{infinite} of {n} values are infinite"
    return f"{int(np.isnan(col).sum())} of {n} values are empty or NaN"


def column_values(columns: dict[str, np.ndarray], names: list[str]) -> np.ndarray:
    """The chosen columns as (T, F), refusing NaN / inf with the row numbers to fix."""
    if not names:
        raise ValueError("pick at least one column")
    missing = [n for n in names if n not in columns]
    if missing:
        raise ValueError(
            f"no numeric column {missing[0]!r}; choose one of {listing(list(columns))}"
        )
    values = np.column_stack([columns[n] for n in names])
    bad = np.flatnonzero(~np.isfinite(values).all(axis=1))
    if len(bad):
        rows = ", ".join(str(r + 2) for r in bad[:5])  # +2: 1-based, after the header line
        more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
        raise ValueError(
            f"rows {rows}{more} hold empty, text, NaN or inf values; fill or drop them"
        )
    return values
