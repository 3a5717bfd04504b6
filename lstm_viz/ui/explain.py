"""The "what am I looking at" text beside the heatmaps and the diagram, in the app's own words."""

from __future__ import annotations

import streamlit as st

LSTM = """
An LSTM unit keeps a running number, the **cell** state, and four small valves decide, at every
step, what happens to it:

- **forget** (0..1): how much of the old cell value to keep. 1 keeps all of it, 0 wipes it.
- **input** (0..1): how much of the new proposal to write in.
- **candidate** (-1..1, also called the input modulation): the new proposal itself, made from
  the current input and the previous hidden state.
- **output** (0..1): how much of the cell to show to the rest of the network as the **hidden**
  state, h = output × tanh(cell).

So the cell changes by c(t) = forget × c(t-1) + input × candidate. A unit that remembers
something for a long time has forget near 1 and input near 0 between the moments it writes.

**Reading the heatmaps**: time runs left to right (the input token or value at each step is on
the axis), one row per unit. Blue shades are gates (white = closed, dark blue = open); red and
blue around white are signed values (red positive, blue negative). The orange band is the
current step; hover any cell for its step, token, unit and value.
"""

GRU = """
A GRU unit has no separate cell: its **hidden** state is the memory.
- **reset** (0..1): how much of the old hidden state feeds the new proposal.
- **update** (0..1): how much of the old hidden state to keep; PyTorch writes
  h(t) = (1 - update) × new + update × h(t-1).
- **new** (-1..1): the proposal made from the input and the (reset) old state.
"""

RNN = """
A plain RNN unit has no gates at all: h(t) = tanh(W·x(t) + U·h(t-1) + b). Every step rewrites
the whole state, which is why it struggles to carry a cue across a long gap.
"""


def explain_ui(kind: str) -> None:
    """A collapsible explanation for this kind of core."""
    with st.expander("What am I looking at?", expanded=False):
        st.markdown({"lstm": LSTM, "gru": GRU}.get(kind, RNN))
