"""Small helpers every panel shares: user text and errors shown as plain text."""

from __future__ import annotations

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
