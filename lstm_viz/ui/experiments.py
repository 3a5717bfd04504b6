"""The intervene view's one-click experiments: cut the memory after the cue (or the chosen step),
or hold it, for every unit or the model's recorded memory units; each applies its clamps and
shows the first of them in the view's controls.
"""

from __future__ import annotations

import streamlit as st

from lstm_viz import claims
from lstm_viz.models import shipped_metrics
from lstm_viz.ui import state
from lstm_viz.ui.analysis_cache import ClampSpec, cue_step
from lstm_viz.ui.common import plain


def _experiment(spec: tuple[ClampSpec, ...]) -> None:
    """Callback: apply a suggested experiment and show its first clamp in the controls."""
    first = spec[0]
    controls = {"lv_iv_mode": "clamp", "lv_iv_gate": first.name, "lv_iv_value": first.value}
    controls |= {
        "lv_iv_units": list(first.units or []),
        "lv_iv_steps": (first.start, first.stop - 1),
    }
    state.go_to(clamps=tuple(spec), widgets=controls)


def experiments_ui(src, tr, layer: int, step: int) -> None:
    """One-click experiments: cut the memory after the cue, or freeze it."""
    labels = tr.labels or [str(t) for t in range(tr.steps)]
    cue = cue_step(labels, src.extra)
    start = cue + 1 if cue is not None else step + 1
    after = f"the name ({labels[cue]!r}, step {cue})" if cue is not None else f"step {step}"
    what = "the name" if cue is not None else f"step {step}"
    st.markdown(f"**Suggested experiments**, from the step after {plain(after)} to the end")
    memory = shipped_metrics(src.model_key).get("memory", {}).get("cue_units", [])
    memory = [m["unit"] for m in memory if m["unit"] < tr.hidden_size]
    who = "all"
    if memory:
        who = st.radio(
            "For",
            ["all", "memory"],
            format_func=lambda w: (
                "every unit" if w == "all" else "the memory units " + ", ".join(map(str, memory))
            ),
            key="lv_iv_exp_units",
            horizontal=True,
            help="Memory units: the cell units that held the cue best on the task's held-out "
            "set (recorded when the model was trained).",
        )
    units = tuple(memory) if who == "memory" else None
    if start >= tr.steps:
        st.caption("Nothing comes after that step: move the step back to try these.")
        return
    span = dict(layer=layer, units=units, start=start, stop=tr.steps)
    if tr.kind == "lstm":
        cut = (ClampSpec("forget", 0.0, **span),)
        hold = (ClampSpec("forget", 1.0, **span), ClampSpec("input", 0.0, **span))
        titles = (f"Close the forget gate after {what}", "Hold the cell (forget 1, input 0)")
    elif tr.kind == "gru":
        cut = (ClampSpec("update", 0.0, **span),)
        hold = (ClampSpec("update", 1.0, **span),)
        titles = (f"Only the new proposal after {what} (update 0)", "Hold the state (update 1)")
    else:
        cut = (ClampSpec("hidden", 0.0, **span),)
        hold = None
        titles = (f"Wipe the hidden state after {what}", "")
    c1, c2 = st.columns(2)
    c1.button(titles[0], key="lv_iv_exp_cut", on_click=_experiment, args=(cut,))
    if hold:
        c2.button(titles[1], key="lv_iv_exp_hold", on_click=_experiment, args=(hold,))
    else:
        c2.caption("A plain RNN has no gate to hold a value with.")
    if tr.kind == "lstm" and cue is not None:
        st.caption(
            "Watch the answer step: with every forget gate shut the cell restarts at each step, "
            "so the name can only survive in the hidden state. If shutting the memory units "
            "alone barely moves the answer, the name is held by many units together."
        )
    if src.model_key == "cue_lstm" and cue is not None:
        # the shipped model's recorded evidence (scripts/measure_claims.py), not this input's
        st.caption(
            "Measured on fresh sentences: every forget gate shut after the cue leaves this model "
            f"{claims.versus_chance('cue_lstm.forget_closed.gap100')} at gap 100, and "
            f"{claims.versus_chance('cue_lstm.forget_closed.short')} on short name sentences. "
            "One sentence can land either way: watch the answer step."
        )
