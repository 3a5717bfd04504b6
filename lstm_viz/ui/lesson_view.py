"""Lesson mode: a guided tour for the classroom, one stop per moment in `lstm_viz.lessons`.

Next and back are callbacks that ask the state owner to move (`state.go_to`): the stop, its model,
input and step change together before any widget is drawn. Each stop draws its
curves and a figure the app already has (the cell diagram, heatmaps, prediction bars), in large
type for a projector. Only our own static CSS is injected; no user text is ever HTML.
"""

from __future__ import annotations

import streamlit as st

from lstm_viz import figures, lessons
from lstm_viz.models import shipped_models
from lstm_viz.tasks import cue
from lstm_viz.ui import state
from lstm_viz.ui.cell import unit_values
from lstm_viz.ui.clicks import clicked_cell
from lstm_viz.ui.common import CHART, plain
from lstm_viz.ui.gates import PRESENT_FONT
from lstm_viz.ui.loaders import load_model, model_title

N = len(lessons.LESSONS)
KEYS_CSS = "<style>.st-key-lv_lesson_keys {display: none}</style>"  # the clicker's key buttons
CSS = """<style>
.st-key-lv_lesson p, .st-key-lv_lesson li {font-size: 1.3rem; line-height: 1.55}
.st-key-lv_lesson h2 {font-size: 2.1rem}
.st-key-lv_lesson button p {font-size: 1.2rem}
</style>"""


def stop_place(k: int) -> dict:
    """What stop k shows: its model, input and step (the start page: nothing but k)."""
    if k < 1:
        return {"stop": 0}
    lesson, moment = lessons.LESSONS[k - 1], lessons.moment(k - 1)
    return dict(
        stop=k,
        model=lesson.model,
        input="example",
        example=lessons.example(lesson.model, lesson.example).name,
        step=moment.step,
    )


def _place(k: int) -> None:
    """Callback: go to stop k and put the sidebar on its model, input and step."""
    state.go_to(**stop_place(k))


def _open_in_gates(k: int) -> None:
    """Callback: show this stop's moment in the step-by-step view (its step, its unit)."""
    unit = lessons.moment(k - 1).unit
    state.go_to(view="gates", **stop_place(k), **({} if unit is None else {"unit": unit}))


def _start_page() -> None:
    st.markdown(f"## Lesson: what the gates of an LSTM do, in {N} stops")
    st.markdown(
        "An LSTM unit keeps a running number, its **cell**, and four gates decide what happens "
        "to it at every step:\n"
        + "\n".join(f"- **{name}**: {what}" for name, what in lessons.GATES.items())
        + "\n\nEach stop switches the sidebar to a shipped model and one of its example inputs, "
        "and shows the step where something happens. The moment is searched for on that input "
        "when the stop opens, and every number in the text is measured there."
    )
    st.button("Start the tour", key="lv_lesson_start", on_click=_place, args=(1,), type="primary",
              shortcut="PageDown")  # fmt: skip


def _figures(k: int) -> None:
    lesson, m = lessons.LESSONS[k - 1], lessons.moment(k - 1)
    tr = m.trace
    font = PRESENT_FONT if state.place().present else None  # presenter mode: every text at 16 px
    fig = figures.step_lines(
        m.lines, tr.labels, m.step, m.ylabel, m.log, height=380, marks=m.marks, font=font
    )
    st.plotly_chart(fig, key="lv_lesson_lines", config=CHART)
    if "terms" in m.extra:  # the gate's sum, term by term (lstm_viz.gate_terms)
        t = m.extra["terms"]
        shown = t.grouped()
        title = f"{t.name}, unit {t.unit}, step {t.step}"
        fig = figures.terms_waterfall(
            list(shown), list(shown.values()), t.preactivation, t.value, t.squash, title
        )
        st.plotly_chart(fig, key="lv_lesson_terms", config=CHART)
    elif "clamped" in m.extra:  # the answer before and after the clamp, side by side
        runs = ((m.preds, "as trained"), (m.extra["clamped"], "clamped"))
        sized = dict(min_px=font, width_px=280) if font else {}
        for col, (out, title) in zip(st.columns(2), runs, strict=True):
            p = load_model(lesson.model).readout(out[m.step])  # probabilities of the answers
            col.metric(title, cue.ANSWERS[int(p.argmax())], f"p = {p.max():.3f}",
                       delta_color="off", delta_arrow="off")  # fmt: skip
            bars = figures.prediction_bars(cue.ANSWERS, p, m.step, top=3, **sized)
            col.image(bars, width="stretch")
    elif m.unit is not None and tr.kind == "lstm":
        values = unit_values(tr, 0, 0, m.step, m.unit)
        token = tr.labels[m.step]  # cell_diagram_svg escapes it
        sized = dict(min_px=font, width_px=figures.diagram_width(tr.kind, font)) if font else {}
        svg = figures.cell_diagram_svg(tr.kind, values, m.unit, m.step, token, **sized)
        st.image(svg, width="stretch")
    else:
        lo = max(0, min(m.step - 30, tr.steps - 60))
        maps = {lesson.gate: tr.gate(lesson.gate)}
        window = (lo, min(tr.steps, lo + 60))
        cell = clicked_cell(["lv_lesson_heatmap"], "lv_clicks_lesson")
        if cell is not None and 0 <= cell["col"] < window[1] - lo:  # that cell, step by step
            there = {"view": "gates", "step": lo + cell["col"], "unit": cell["row"]}
            state.go_to(rerun=True, **(stop_place(k) | there))
        heat = figures.gate_heatmaps(
            maps, tr.labels, window=window, step=m.step, row_height=240, font=font
        )
        st.plotly_chart(heat, key="lv_lesson_heatmap", config=CHART)


def _nav(k: int) -> None:
    """Back / Next (← →, and a clicker's PageUp / PageDown, or Space) and the way out."""
    c1, c2, c3 = st.columns([1, 1, 2])
    c1.button("← Back", key="lv_lesson_back", on_click=_place, args=(k - 1,), width="stretch",
              shortcut="Left", disabled=k < 1)  # fmt: skip
    c2.button(
        "Next →", key="lv_lesson_next", on_click=_place, args=(k + 1,), width="stretch",
        disabled=k >= N, type="primary", shortcut="Right",
    )  # fmt: skip
    st.html(KEYS_CSS)
    with st.container(key="lv_lesson_keys"):  # out of sight: only their shortcuts are used
        for name, shortcut, to in (("pagedown", "PageDown", k + 1), ("space", "Space", k + 1),
                                   ("pageup", "PageUp", k - 1)):  # fmt: skip
            st.button(name, key=f"lv_lesson_key_{name}", on_click=_place,
                      args=(min(max(to, 0), N),), shortcut=shortcut)  # fmt: skip
    c3.button(
        "Open this moment in the step-by-step view", key="lv_lesson_open",
        on_click=_open_in_gates, args=(k,), width="stretch",
    )  # fmt: skip


def _stop(k: int, src) -> None:
    lesson, m = lessons.LESSONS[k - 1], lessons.moment(k - 1)
    ex = lessons.example(lesson.model, lesson.example)
    st.markdown(f"## {k} / {N} · {lesson.title}")
    _nav(k)  # on top: the buttons stay in one place from stop to stop, whatever the figures
    left, right = st.columns([1, 1.15], gap="large")
    with left:
        st.markdown(lessons.text(k - 1))
        where = f"{model_title(lesson.model)} · input “{ex.name}” · step {m.step}"
        where += f" ({m.trace.labels[m.step]})" + (
            f" · unit {m.unit}" if m.unit is not None else ""
        )
        st.caption(plain(where))
        if src.model_key != lesson.model or list(src.labels) != list(ex.labels):
            st.caption("The sidebar now shows another model or input than this stop.")
            st.button(
                "Put this stop's model and input back", key="lv_lesson_restore",
                on_click=_place, args=(k,),
            )  # fmt: skip
    with right:
        _figures(k)


def lesson_view(src, tr, preds, trace_id: str) -> None:
    missing = sorted({ls.model for ls in lessons.LESSONS} - set(shipped_models()))
    if missing:  # e.g. a checkout without the weights: say which, rather than fail mid-tour
        st.warning(f"Lesson mode needs the shipped models {', '.join(missing)}; they are missing.")
        return
    st.html(CSS)
    k = min(max(int(state.place().stop), 0), N)
    with st.container(key="lv_lesson"):
        if k == 0:
            _start_page()
        else:
            _stop(k, src)
