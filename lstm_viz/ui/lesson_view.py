"""The lesson view (issue 5): placeholder until its panel lands."""

from __future__ import annotations

import streamlit as st


def lesson_view(src, tr, preds, trace_id: str) -> None:
    st.info("This view is being built.")
