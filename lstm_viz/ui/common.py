"""Small helpers every panel shares: user text and errors shown as plain text, and widget values
in session state kept in range."""

from __future__ import annotations

import math
import numbers
import re

import streamlit as st

_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def plain(text: object) -> str:
    """Text with every Markdown character escaped, so st.markdown-like calls show it verbatim
    (no links, images, emphasis or HTML from user input)."""
    return _MARKDOWN.sub(r"\\\1", str(text))


def show_error(prefix: str, err: Exception) -> None:
    """One readable error box: our prefix, then the exception's message shown as plain text."""
    st.error(f"{prefix}: {plain(err)}", icon="⚠️")


def keep_in_range(key: str, lo: float, hi: float, clamp: bool = True) -> None:
    """Bring a number held in session state under `key` into lo..hi before its widget is drawn.

    Streamlit raises on a widget whose state is out of its range; a value can get there from an
    earlier, longer input or from a crafted client. Non-numbers are dropped (the widget shows its
    default); so are out-of-range values when clamp=False (for widgets given a default value,
    which Streamlit does not let the session state override without a warning).
    """
    ss = st.session_state
    if key not in ss:
        return
    value = ss[key]
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    whole = isinstance(lo, int)  # an integer widget: step, unit, layer, ...
    if ok and lo <= value <= hi and (isinstance(value, numbers.Integral) or not whole):
        return  # in range (numpy integers included): leave it exactly as it is
    if not ok or not clamp:
        del ss[key]
        return
    fixed = min(max(value, lo), hi)
    ss[key] = int(fixed) if whole else float(fixed)


def keep_members(key: str, allowed: range) -> None:
    """Drop entries of a list in session state (e.g. pinned units) that are not in `allowed`."""
    ss = st.session_state
    if key not in ss:
        return
    value = ss[key]
    if not isinstance(value, (list, tuple)):
        del ss[key]
        return
    kept = [v for v in value if _whole(v) and int(v) in allowed]
    if len(kept) != len(value):
        ss[key] = kept


def _whole(v: object) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)
