"""Runs notebooks/lstm_tutorial.ipynb headless (nbclient + ipykernel) in fast mode, once per test
process: test_notebook.py checks it ran, test_explorer_browser.py opens its explorer outputs."""

from __future__ import annotations

import functools
import os
from pathlib import Path

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "lstm_tutorial.ipynb"


@functools.lru_cache(maxsize=1)
def executed_notebook():
    """The notebook after running every cell with LSTM_VIZ_FAST=1; a cell error raises
    nbclient's CellExecutionError naming the cell."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},  # run where a user would
    )
    old = os.environ.get("LSTM_VIZ_FAST")
    os.environ["LSTM_VIZ_FAST"] = "1"  # the kernel inherits this process's environment
    try:
        client.execute()
    finally:
        if old is None:
            del os.environ["LSTM_VIZ_FAST"]
        else:
            os.environ["LSTM_VIZ_FAST"] = old
    return nb


def explorer_outputs(nb) -> list[str]:
    """The text/html of every `show` output, in order."""
    return [
        out["data"]["text/html"]
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if "lstm-viz-explorer" in out.get("data", {}).get("text/html", "")
    ]


def printed(nb) -> str:
    """Everything the cells printed (stdout), in order."""
    return "".join(
        out.get("text", "")
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if out.get("output_type") == "stream" and out.get("name") == "stdout"
    )
