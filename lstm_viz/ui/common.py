"""Small helpers every panel shares: user text and errors shown as plain text."""

from __future__ import annotations

import re

import streamlit as st

CHART = {"displayModeBar": False}  # every chart: no Plotly toolbar (Streamlit has its own)
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def plain(text: object) -> str:
    """Text with every Markdown character escaped, so st.markdown-like calls show it verbatim
    (no links, images, emphasis or HTML from user input)."""
    return _MARKDOWN.sub(r"\\\1", str(text))


def own_copy(spec: dict) -> dict:
    """A cached figure dict, fit to hand to Plotly (st.plotly_chart, go.Figure) in this run.

    Plotly's validation pops each trace dict's "type" and puts it back: two sessions drawing
    the same cached dict at once could see a heatmap without its type, read as a scatter, and
    fail ("Invalid property ... Scatter: 'coloraxis'"). That happened to 2-12 of 30 students
    joining a room at once. Fresh trace dicts (the arrays are shared, not copied) cost ~µs."""
    return {**spec, "data": [dict(trace) for trace in spec.get("data", ())]}


def show_error(prefix: str, err: Exception) -> None:
    """One readable error box: our prefix, then the exception's message shown as plain text."""
    st.error(f"{prefix}: {plain(err)}", icon="⚠️")


def session_gone() -> bool:
    """Whether this run's browser tab has closed (its websocket is gone). False outside a
    `streamlit run` server (AppTest, bare Python), where there is no session to lose."""
    from streamlit.runtime import Runtime
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx(suppress_warning=True)
    if ctx is None or not Runtime.exists():
        return False
    return not Runtime.instance().is_active_session(ctx.session_id)


def stop_if_gone() -> None:
    """End this run (st.stop) when its tab has closed: long loops (training) call it each round
    so a closed tab's work does not go on using the server. Streamlit's own stop request is
    only honoured at the next `st.` call, which a loop without one never makes."""
    if session_gone():
        st.stop()
