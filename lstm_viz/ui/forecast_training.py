"""The forecast view's training panel: a quick LSTM trained on a column of the user's own CSV
file (`forecast.train_on_series`, with a progress bar), and the download of a model trained so.

A model trained here lives in this session's state only (never in a cache shared by sessions).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import streamlit as st

from lstm_viz import inputs
from lstm_viz.limits import MAX_SEASON
from lstm_viz.models import save_checkpoint
from lstm_viz.tasks import forecast, series
from lstm_viz.ui import state
from lstm_viz.ui.common import plain, show_error, stop_if_gone

TRAINED = "lv_fc_trained"  # session state: name -> {model, values, labels, unit, metrics, seconds}
KEEP = 4  # trained models kept per session (the oldest is dropped)


def trained_models() -> dict:
    """This session's trained models, oldest first: name -> entry (as the forecast panel takes)."""
    return state.stashed(TRAINED, {})


def train_ui() -> None:
    """The upload, column, season and steps; on Train, the model joins this session's and is
    selected in the forecast view."""
    file = st.file_uploader(
        "CSV file with a header row", type=["csv", "txt"], key="lv_fc_csv",
        help=f"One row per step, at most {inputs.MAX_STEPS} rows; at least "
        f"{series.MIN_LENGTH} values.",
    )  # fmt: skip
    if file is None:
        st.caption("The last 20% of your series is held out to score the model and the baselines.")
        return
    try:
        table = inputs.read_csv_table(file.getvalue())
    except ValueError as err:
        show_error("Could not read this CSV", err)
        return
    for text in table.notes():  # columns left out, and why
        st.caption(plain(text))
    columns = table.columns
    names = list(columns)
    first = table.default_columns(1)[0]
    state.keep_choice("lv_fc_column", names)
    c1, c2, c3 = st.columns([3, 2, 2])
    column = c1.selectbox("Column", names, index=names.index(first), key="lv_fc_column")
    state.keep_in_range("lv_fc_season", 0, MAX_SEASON)
    season = c2.number_input(
        "Season (steps per cycle; 0 = estimate)", 0, MAX_SEASON, 0, key="lv_fc_season"
    )
    state.keep_in_range("lv_fc_steps", 50, 3000)
    steps = c3.number_input("Training steps", 50, 3000, 600, step=50, key="lv_fc_steps")
    if not st.button("Train a quick model", key="lv_fc_train", type="primary"):
        return
    bar = st.progress(0.0, text="starting")

    def progress(done: int, total: int, loss: float) -> None:
        stop_if_gone()  # a closed tab's training stops here, not after its last step
        bar.progress(done / total, text=f"step {done} of {total} · loss {loss:.3f}")

    begin = time.perf_counter()
    try:
        values = inputs.column_values(columns, [column])[:, 0]
        model, metrics = forecast.train_on_series(
            values, steps=int(steps), season=int(season) or None, progress=progress
        )
    except ValueError as err:
        bar.empty()
        show_error("Could not train on this column", err)
        return
    trained = dict(trained_models())
    base = f"{file.name} · {column}"
    name = next(n for n in (base, *(f"{base} #{k}" for k in range(2, 99))) if n not in trained)
    trained[name] = dict(
        model=model,
        values=series.check_series(values),
        labels=[str(k) for k in range(len(values))],
        unit="",
        metrics=metrics,
        seconds=time.perf_counter() - begin,
    )
    while len(trained) > KEEP:
        trained.pop(next(iter(trained)))
    state.stash(TRAINED, trained)
    state.go_to(widgets={"lv_fc_model": name}, rerun=True)


def download_ui(entry: dict) -> None:
    """A trained model as a weights-only checkpoint the sidebar can load, and how it was trained."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "forecast_custom_lstm.pt"
        save_checkpoint(entry["model"], path)
        data = path.read_bytes()
    st.download_button(
        "Download this model (.pt): upload it in the sidebar to see its gates",
        data,
        file_name="forecast_custom_lstm.pt",
        key="lv_fc_download",
    )
    st.caption(
        f"Trained in this session on {len(entry['values'])} values in "
        f"{entry['seconds']:.1f} s ({entry['metrics'].get('steps')} steps, best validation "
        f"step {entry['metrics'].get('best_step')})."
    )
