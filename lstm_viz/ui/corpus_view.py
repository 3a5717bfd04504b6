"""Ask the corpus: select a pattern on this input's state map and find where else in the task's
held-out data the model does the same (LSTMVis's question, Strobelt et al. 2017).

Streamlit does not report selections on Plotly heatmaps, so the selection is made beside the map:
a step range and a threshold propose the units that are on over the range and off just around it
(LSTMVis's rule, `lstm_viz.propose_units`); the units can be edited; `lstm_viz.match` then ranks
every span of the corpus where those units are all on. The corpus is traced once per server.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from lstm_viz import figures, inputs
from lstm_viz.corpus import corpus_trace, shipped_corpus
from lstm_viz.matching import match, propose_units
from lstm_viz.models import shipped_models
from lstm_viz.ui import state
from lstm_viz.ui.common import plain, show_error
from lstm_viz.ui.memory_view import CHART, where_ui

TOP = 20  # matches shown
WINDOW = 200  # steps per sequence of a user's CSV corpus without a `sequence` column


@st.cache_resource(show_spinner="Tracing the held-out corpus once for this server…")
def corpus_of(name: str):
    """(Corpus, CorpusTrace) of a shipped model's task data (float16 states), shared."""
    return shipped_corpus(name)


def _text(labels: list[str], start: int, end: int, words: bool) -> str:
    """A span's tokens with the matched part in bold, a little context around it."""
    lo, hi = max(0, start - 8), min(len(labels), end + 9)
    sep = " " if words else ""
    show = [plain(s if words else s.replace(" ", "␣")) for s in labels[lo:hi]]
    bold = show[start - lo : end - lo + 1]
    text = sep.join(show[: start - lo]) + sep + "**" + sep.join(bold) + "**" + sep
    return (
        ("…" if lo else "")
        + text
        + sep.join(show[end - lo + 1 :])
        + ("…" if hi < len(labels) else "")
    )


def _open(labels: list[str], words: bool, start: int) -> None:
    """Callback: this match as typed text in the gates view, at its first step."""
    chars = ["\n" if s == "⏎" else " " if s == "␣" else s for s in labels]  # shown -> typed
    state.go_to(view="gates", input="text", text=(" " if words else "").join(chars), step=start)


@st.cache_data(show_spinner="Tracing your corpus…", max_entries=4)
def user_corpus(model_key: str, _model, data: bytes):
    """A corpus file for an uploaded model, traced (see `read_user_corpus`)."""
    sequences, labels = read_user_corpus(_model, data)
    return None, corpus_trace(_model, sequences, labels=labels)


def read_user_corpus(model, data: bytes) -> tuple[list[np.ndarray], list[list[str]]]:
    """A user's corpus file: for a token model, one sequence of token ids per line; for a
    numeric model, a CSV of its features (one step per row) whose optional `sequence` column
    splits it into sequences (else every WINDOW rows is one). ValueError with a hint otherwise."""
    if getattr(model, "is_token_model", False):
        lines = [ln for ln in data.decode("utf-8", "replace").splitlines() if ln.strip()]
        seqs = [np.asarray(inputs.text_input(model, ln).x, dtype=np.int64) for ln in lines]
        if not seqs:
            raise ValueError("the file has no lines; put one sequence of token ids per line")
        return seqs, [[str(int(i)) for i in q] for q in seqs]
    table = inputs.read_csv_table(data)
    split = table.columns.pop("sequence", None)
    need = inputs.input_size(model)
    names = table.default_columns(need)
    if len(names) < need:
        raise ValueError(f"the model reads {need} feature(s) per step; the file has {len(names)}")
    values = inputs.column_values(table.columns, names).astype(np.float32)  # (N, F)
    cuts = (
        np.flatnonzero(np.diff(split)) + 1
        if split is not None
        else np.arange(WINDOW, len(values), WINDOW)
    )
    seqs = [part for part in np.split(values, cuts) if len(part)]
    return seqs, [[f"{v:.4g}" for v in part[:, 0]] for part in seqs]


def corpus_view(src, tr, preds, trace_id: str) -> None:
    if src.model_key in shipped_models():
        loaded = corpus_of(src.model_key)
    else:  # an uploaded model brings its own corpus
        file = st.file_uploader(
            "A corpus for your model: text (one line of token ids per sequence) or CSV (one "
            "step per row; a `sequence` column splits it)",
            type=["txt", "csv"],
            key="lv_cx_file",
        )
        if file is None:
            st.info("Upload a corpus file to search your model's states across it.")
            return
        try:
            loaded = user_corpus(src.model_key, src.model, file.getvalue())
        except ValueError as err:
            show_error("Could not use this corpus file", err)
            return
    names = [n for n in ("hidden", "cell") if n in tr.names]
    c1, c2, c3, c4 = st.columns([1, 2, 1.2, 1])
    name = c1.selectbox("State", names, key="lv_cx_state")
    with c4:
        layer, direction = where_ui(tr)
    values = tr.gate(name, layer, direction)  # (T, U)
    here = state.place()
    steps = tr.steps
    top = 1.0 if name == "hidden" else 5.0  # hidden lies in -1..1; a cell can run further
    state.keep_in_range("lv_cx_threshold", -top, top)
    threshold = c3.slider("Threshold (on: value ≥ it)", -top, top, 0.3, 0.05, key="lv_cx_threshold")
    if steps > 1:
        lo_hi = state.widget_value("lv_cx_span", (here.step, min(here.step + 3, steps - 1)))
        lo, hi = (min(max(int(v), 0), steps - 1) for v in lo_hi)
        state.set_widget("lv_cx_span", (min(lo, hi), max(lo, hi)))
        start, end = c2.slider("Selected steps (on this input)", 0, steps - 1, key="lv_cx_span")
    else:
        start = end = 0
    proposal = propose_units(values, start, end, threshold)
    fig = figures.gate_heatmaps({name: values}, tr.labels or [str(t) for t in range(steps)],
                                step=start, row_height=200)  # fmt: skip
    st.plotly_chart(fig, key="lv_cx_map", theme=None, config=CHART)
    units_of = values.shape[1]
    state.keep_choice("lv_cx_units", list(range(units_of)))
    picked = st.multiselect(
        f"Units ({len(proposal.units)} proposed: on at every selected step, off one step "
        "before and after)",
        list(range(units_of)),
        default=proposal.units,
        key="lv_cx_units",
    )
    if not picked:
        st.caption("No unit is on over the whole selection and off around it at this threshold: "
                   "lower the threshold or select fewer steps.")  # fmt: skip
        return
    _, ctrace = loaded
    try:
        found = match(ctrace, picked, threshold, name=name, layer=layer, direction=direction,
                      top=TOP)  # fmt: skip
    except ValueError as err:
        show_error("Cannot search with this selection", err)
        return
    st.markdown(
        f"**Units {', '.join(map(str, picked))} all ≥ {threshold:g}**: {found.summary} of the "
        f"held-out corpus ({ctrace.steps:,} steps, {ctrace.nbytes / 2**20:.1f} MB at float16). "
        "Score: Jaccard of these units and the units on across the span (1 = exactly these "
        "units), longer spans first on ties."
    )
    if found.starts:
        st.caption("Most matches start at: " + ", ".join(
            f"{plain(s)!r} ({n})" for s, n in found.starts[:8]))  # fmt: skip
    if found.fills:
        st.caption("Tokens inside matches: " + ", ".join(
            f"{plain(s)!r} ({n})" for s, n in found.fills[:8]))  # fmt: skip
    words = bool(getattr(src.model, "is_token_model", False)) and any(
        len(s) > 1 for s in (tr.labels or []))  # fmt: skip
    opens = getattr(src.model, "is_token_model", False)
    for k, m in enumerate(found.matches):
        labels = ctrace.labels(m.sequence)
        c1, c2 = st.columns([6, 1])
        c1.markdown(f"{k + 1}. score {m.score:.2f} · sequence {m.sequence}, steps "
                    f"{m.start}–{m.end}: {_text(labels, m.start, m.end, words)}")  # fmt: skip
        if opens:
            c2.button("Open", key=f"lv_cx_open_{k}", on_click=_open,
                      args=(labels, words, m.start))  # fmt: skip
    if not opens:
        st.caption("Matches of numeric models are listed by position; open one by typing its "
                   "values in the sidebar.")  # fmt: skip
