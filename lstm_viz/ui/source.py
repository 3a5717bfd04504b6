"""The sidebar: choose a model (shipped, demo or uploaded) and an input (example, text,
generated series or CSV column). Returns a `Source`, or None with the reason shown in the app.

User text is only ever shown with st.text / st.code / st.caption of our own strings, never as
HTML; every ValueError from parsing becomes one readable st.error.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# imported here, when the app loads, and not lazily by the first CSV upload: a first import in
# one session's thread leaves a half-initialised pandas in sys.modules, which plotly, building
# another session's figure at that moment, uses and fails on ("partially initialized module
# 'pandas' has no attribute 'Series'"; seen with bench/load.py)
import pandas  # noqa: F401
import streamlit as st
from torch import nn

from lstm_viz import inputs
from lstm_viz.inputs import MAX_STEPS, UserInput
from lstm_viz.loaded import ChoiceNeeded
from lstm_viz.models import SequenceModel
from lstm_viz.ui import classroom, loaders, state
from lstm_viz.ui.common import plain, show_error
from lstm_viz.ui.place import INPUTS, MAX_SEED, NOISE_RANGE, example_named

UPLOAD = "upload"  # the model picker's entry for the user's own file
LAST_GOOD = "last_good_input"  # stash: (model key, UserInput, description) of the last good input
INPUT_TITLES = {
    "example": "an example",
    "text": "type text or numbers",
    "generated": "a generated sequence",
    "csv": "a CSV column",
}
DEFAULT_TEXT = {
    "cue": "as Martha proposed the bill in the house . She further in the statement proposed",
    "chars": 'anna said, "we will go now (please)." the dog ran home.',
}


@dataclass
class Source:
    model: SequenceModel | nn.Module
    model_key: str  # identifies the weights for caching: shipped name, demo, or upload hash
    title: str
    x: np.ndarray  # ids (T,) or values (T, F)
    labels: list[str]
    description: str = ""
    task: str = ""
    extra: dict = field(default_factory=dict)
    unknown: tuple[int, ...] = ()  # steps the model reads as unknown words (greyed on the axis)

    @property
    def steps(self) -> int:
        return len(self.labels)


def _model_ui() -> tuple[SequenceModel | nn.Module, str, str] | None:
    names = [*loaders.model_names(), UPLOAD]
    titles = {n: loaders.model_title(n) for n in names}
    titles[UPLOAD] = "your own model (upload)"
    name = st.selectbox(
        "Model",
        names,
        format_func=titles.get,
        help="Shipped models were trained by `python -m lstm_viz.train`.",
        **state.bind("model", names),
    )
    if not loaders.shipped_models():
        st.caption("No shipped weights found; the untrained demo and uploads still work.")
    if name != UPLOAD:
        return loaders.load_model(name), name, titles[name]
    file = st.file_uploader(
        "Model file",
        type=["pt", "pth", "bin", "keras", "h5"],
        key="lv_model_file",
        help="A PyTorch state_dict (a whole model's or just its nn.LSTM / GRU / RNN), an "
        "lstm_viz checkpoint, or a Keras .keras / .h5 file. Read as weights only: no code in "
        "it runs.",
    )
    if file is None:
        st.info("Upload a model file to see its gates, or pick a shipped model.")
        return None
    data = file.getvalue()
    answers: dict[str, str] = {}
    while True:  # the file cannot say everything (an RNN's nonlinearity, which core): ask
        try:
            model = loaders.load_upload(data, tuple(sorted(answers.items())))
            break
        except ChoiceNeeded as ask:
            if ask.keyword in answers:  # answered, and still refused: say why
                show_error("Could not use this model file", ask)
                return None
            st.warning(plain(str(ask)), icon="❓")
            answers[ask.keyword] = st.radio(
                f"Choose {ask.keyword}", ask.choices, key=f"lv_upload_{ask.keyword}", index=None
            )
            if answers[ask.keyword] is None:
                return None
        except ValueError as err:
            show_error("Could not use this model file", err)
            return None
    summary = getattr(model, "summary", None)
    if summary is not None:
        with st.expander("What was loaded", expanded=True):
            st.text("\n".join(summary.lines()))
    return model, loaders.upload_key(data, answers), f"uploaded: {file.name}"


def _example_ui(model, examples) -> tuple[UserInput, str]:
    names = [e.name for e in examples]
    wanted = state.place().example
    found = example_named(names, wanted)
    if wanted and found is None:
        state.note(f"This model has no example {wanted!r}; showing {names[0]!r}.")
    state.settle(example=found or names[0])
    name = st.selectbox("Example", names, **state.bind("example", names))
    ex = examples[names.index(name)] if name in names else examples[0]
    return UserInput(np.asarray(ex.x), [str(s) for s in ex.labels]), ex.description


def _text_ui(model, task: str) -> UserInput:
    token = getattr(model, "is_token_model", False)
    need = inputs.input_size(model)
    wave = "0 0.5 1 0.5 0 -0.5 -1 -0.5 0 0.5 1"
    numbers = wave if need == 1 else "\n".join(" ".join(["0.5"] * need) for _ in range(3))
    default = DEFAULT_TEXT.get(task, "" if token else numbers)
    if token and not isinstance(model, SequenceModel):  # a loaded model: ids, no vocabulary
        st.caption("This model's file holds no vocabulary: type token ids (whole numbers).")
    if task == "cue":
        _words_ui(default)
    text = st.text_area(
        "Text" if token else f"Numbers: {inputs.number_format(model)}",
        max_chars=20_000,
        **state.bind("text", default=default),
    )
    user = inputs.text_input(model, text)
    if user.note:  # e.g. a capitalised word the model does not know: a note, not an error
        st.caption(plain(user.note))
    return user


def _insert(key: str, default: str) -> None:
    """Callback: put a chip's word (or a template) into the text."""
    picked = state.widget_value(key)
    if not picked:
        return
    here = state.place()
    if key == "lv_template":
        text = picked
    else:
        text = ((here.text if here.text is not None else default).rstrip() + " " + picked).strip()
    state.go_to(text=text, widgets={key: None})


def _words_ui(default: str) -> None:
    """The words the cue model knows (click one to add it) and sentences to start from."""
    from lstm_viz.tasks.cue import CHIPS, TEMPLATES

    with st.expander("Words this model knows, and sentences to start from"):
        for k, (group, words) in enumerate(CHIPS.items()):
            st.pills(group, list(words), key=f"lv_chip_{k}", on_change=_insert,
                     args=(f"lv_chip_{k}", default))  # fmt: skip
        st.selectbox("Start from", TEMPLATES, index=None, key="lv_template",
                     placeholder="a sentence template", on_change=_insert,
                     args=("lv_template", default))  # fmt: skip
        st.caption("Any other word is read as filler (greyed on the time axis).")


def _generated_ui(model) -> UserInput:
    length = st.number_input("Length (steps)", 1, MAX_STEPS, step=50, **state.bind("length"))
    seed = st.number_input("Seed", 0, MAX_SEED, **state.bind("seed"))
    token = getattr(model, "is_token_model", False)
    noise = st.slider(
        "Noise",
        *NOISE_RANGE,
        step=0.05,
        disabled=token,
        help="Gaussian noise added to the sines (numeric models only).",
        **state.bind("noise"),
    )
    if token:
        st.caption("Random tokens from the model's vocabulary.")
        return inputs.generated_tokens(model, int(length), int(seed))
    return inputs.numbers_input(model, inputs.generated_series(int(length), int(seed), noise))


def _csv_ui(model) -> UserInput | None:
    file = st.file_uploader(
        "CSV file",
        type=["csv", "txt"],
        key="lv_csv",
        help=f"One row per step, a header row; at most {MAX_STEPS} rows.",
    )
    if file is None:
        st.info("Upload a CSV file with a header row and a numeric column.")
        return None
    table = inputs.read_csv_table(file.getvalue())
    for text in table.notes():  # columns left out, and why: never dropped silently
        st.caption(plain(text))
    columns, need = table.columns, inputs.input_size(model)
    names = list(columns)
    picked = st.multiselect(
        f"Column(s) — the model reads {need}",
        names,
        max_selections=need,
        **state.bind("columns", names, default=table.default_columns(need)),
    )
    return inputs.numbers_input(model, inputs.column_values(columns, picked))


def source_ui() -> Source | None:
    """Draw the sidebar; return the chosen model and input, or None (the reason is shown)."""
    here = state.place()
    state.settle(length=min(max(here.length, 1), MAX_STEPS), seed=min(max(here.seed, 0), MAX_SEED))
    with st.sidebar:
        st.header("lstm_viz")
        chosen = _model_ui()
        if chosen is None:
            return None
        model, key, title = chosen
        config = getattr(model, "config", None)
        task = config.task if config is not None else ""
        extra = dict(config.extra) if config is not None else {}
        examples = loaders.task_examples(task, extra.get("variant")) if task else []
        token = getattr(model, "is_token_model", False)
        kinds = [k for k in INPUTS if k != "example" or examples]
        kinds = [k for k in kinds if k != "csv" or not token]
        kind = st.radio("Input", kinds, format_func=INPUT_TITLES.get, **state.bind("input", kinds))
        description = ""
        try:
            if kind == "example":
                user, description = _example_ui(model, examples)
            elif kind == "text":
                user = _text_ui(model, task)
            elif kind == "generated":
                user = _generated_ui(model)
            else:
                user = _csv_ui(model)
                if user is None:
                    return None
        except ValueError as err:
            show_error("Could not use this input", err)
            last = state.stashed(LAST_GOOD)
            if not last or last[0] != key:  # nothing this model has traced yet
                return None
            _, user, description = last  # the page keeps the last input that worked
            st.caption("The page shows the last input that worked until this one does.")
        state.stash(LAST_GOOD, (key, user, description))
        if description:
            st.caption(description)
        st.caption(f"{len(user.labels)} steps")
        if not state.place().present:  # in presenter mode these sit above the view instead
            with st.expander("Classroom: presenter mode and rooms"):
                classroom.presenter_ui()
    unknown = tuple(getattr(user, "unknown", ()) or ())
    return Source(model, key, title, user.x, user.labels, description, task, extra, unknown)
