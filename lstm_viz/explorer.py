"""The gate explorer as one self-contained HTML page: `trace_html` (a file), `show` (Jupyter).

How it is built: the heatmaps are the app's own figure (`figures.gate_heatmaps`) with their
values taken out of the figure; the values travel once, as float16 in base64, and the
page's script (static/explorer.js) decodes them, puts them back into the heatmaps and reads each
step's numbers for the panel from them. plotly.js is inlined once. A step moves a marker box laid
over the maps and rewrites the panel in the browser: no server, no kernel round trip, no network.
`show` puts the same page in an iframe (srcdoc), so several explorers coexist in one notebook and
each keeps working in the saved notebook's HTML.

User text (labels, title) reaches the page only as escaped JSON and is shown with textContent; the
figure's own labels are escaped by `figures.safe`.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
from pathlib import Path

import numpy as np
import plotly.io as pio
from plotly.offline import get_plotlyjs

from lstm_viz import figures
from lstm_viz.checks import whole_number
from lstm_viz.trace_result import LSTMTrace

STATIC = Path(__file__).parent / "static"
FLOAT16_MAX = 65504.0  # larger values are stored as float32 instead
LEAD = ("forget", "input", "candidate", "output")  # forget first, as the gates are usually taught


def map_names(tr: LSTMTrace) -> list[str]:
    """Maps drawn, in reading order; a projected LSTM shows h before the projection (the h of
    `h = o * tanh(c)`), which has the cell's units."""
    names = [n for n in LEAD if n in tr.names] + [n for n in tr.names if n not in LEAD]
    if "hidden_unprojected" in names:
        names.remove("hidden")
    return names


def explorer_data(
    tr: LSTMTrace,
    layer: int = 0,
    direction: int = 0,
    batch: int | None = None,
    units=None,
    window: tuple[int, int] | None = None,
    labels=None,
    state=None,
    step: int | None = None,
    row_height: int | None = None,
) -> tuple[dict, dict]:
    """(data, figure) for one layer and direction: data is what the script reads (values as
    float16 base64, labels, the state before the first step), figure the Plotly JSON without z."""
    if not isinstance(tr, LSTMTrace):
        raise ValueError(f"expected an lstm_viz.LSTMTrace, got {type(tr).__name__}")
    names = map_names(tr)
    full = {n: _one_sequence(tr, n, layer, direction, batch) for n in names}  # (T, U) each
    steps = _filled_steps(full)
    given = labels if labels is not None else tr.labels
    labels = [str(s) for s in given] if given is not None else [str(t) for t in range(steps)]
    if len(labels) < steps:
        raise ValueError(f"got {len(labels)} labels for {steps} steps; give one label per step")
    labels = labels[:steps]
    full = {n: v[:steps] for n, v in full.items()}
    start, stop = window if window is not None else (0, steps)
    if not (0 <= start < stop <= steps):
        raise ValueError(f"window {window} out of range; use 0 <= start < stop <= {steps}")
    n_units = full[names[0]].shape[1]
    units = list(range(n_units)) if units is None else [whole_number(u, "unit") for u in units]
    if not units or min(units) < 0 or max(units) >= n_units:
        raise ValueError(f"units must be a non-empty list in 0..{n_units - 1}")
    step = start if step is None else whole_number(step, "step")
    if not start <= step < stop:
        raise ValueError(f"step {step} is outside the steps shown ({start}..{stop - 1})")
    clamped = {n: tr.clamped(n, layer, direction)[:steps] for n in names if n in tr.clamp_masks}
    # no marker shape: the page draws its own, which it can move without a Plotly redraw
    fig = figures.gate_heatmaps(full, labels, units, (start, stop), None, clamped, row_height)
    figure = _without_values(fig)
    kind = tr.kind
    carried = "cell" if kind == "lstm" else "hidden"  # what the equation needs from t-1
    data = {
        "kind": kind,
        "nonlinearity": tr.config.get("nonlinearity", "tanh"),
        "projected": bool(tr.config.get("proj_size")),
        "layer": layer,
        "direction": direction,
        "start": start,
        "steps": stop - start,
        "units": units,
        "names": names,
        "labels": labels[start:stop],
        "step": step,
        "values": {n: _pack(full[n][start:stop][:, units]) for n in names},
        "clamped": {n: _bits(m[start:stop][:, units]) for n, m in clamped.items() if m.any()},
        "carried": carried,
        "before": _before(tr, full, carried, layer, direction, batch, start, stop, units, state),
    }
    return data, figure


def page_html(tr: LSTMTrace, title: str | None = None, **options) -> str:
    """The whole explorer page (see `trace_html` for the options)."""
    data, figure = explorer_data(tr, **options)
    title = title or f"lstm_viz: {tr.kind.upper()} layer {data['layer']}" + (
        f" direction {data['direction']}" if tr.num_directions > 1 else ""
    )
    data["title"] = str(title)
    blob = _json(data)
    uid = "lv" + hashlib.sha1(blob.encode()).hexdigest()[:10]
    script = (STATIC / "explorer.js").read_text()
    style = (STATIC / "explorer.css").read_text()
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(str(title))}</title>"
        f"<style>{style}</style></head><body>\n"
        f'<div class="lv-explorer" id="{uid}"></div>\n'
        "<script>window.PlotlyConfig = {MathJaxConfig: 'local'};</script>\n"
        f"<script>{get_plotlyjs()}</script>\n"
        f"<script>{script}</script>\n"
        f'<script type="application/json" id="{uid}-data">{blob}</script>\n'
        f'<script type="application/json" id="{uid}-figure">{_json(figure)}</script>\n'
        f'<script>lstmVizExplorer("{uid}");</script>\n'
        "</body></html>\n"
    )


def trace_html(trace: LSTMTrace, path: str | Path | None = None, **options) -> str:
    """The gate explorer as one offline HTML page; written to `path` if given. Returns the HTML.

    The page needs no server and no network (open it by double-click): the six heatmaps on one
    time axis with a step marker, a step slider, Prev / Next and the arrow keys, and for a chosen
    unit the step's values with the cell's equation written out (GRU and RNN: their own).
    Values are stored as float16 and shown to 3 decimals.

    Options: layer, direction (one of each per page); batch (which sequence of a batched trace;
    steps past a packed sequence's end are cut off); units (rows, in this order); window
    (start, stop) of steps; labels (one per step; default the trace's); state (the initial state
    as the module took it, for the first step's c(t-1) / h(t-1); default zeros); step (where the
    marker starts); title; row_height (pixels per map).
    """
    page = page_html(trace, **options)
    if path is not None:
        Path(path).write_text(page, encoding="utf-8")
    return page


def iframe_html(trace: LSTMTrace, height: int | None = None, **options) -> str:
    """The explorer page inside an iframe's srcdoc: isolated, so several coexist on one page."""
    page = page_html(trace, **options)
    if height is None:
        fig_height = json.loads(_figure_part(page))["layout"]["height"]
        height = fig_height + 230  # controls and the step panel above the maps
    # in a single-quoted attribute only & and ' need escaping (plotly.js holds ~97,000 double
    # quotes and ~1,000 single ones: this keeps the output ~0.5 MB smaller)
    doc = page.replace("&", "&amp;").replace("'", "&#39;")
    # non-ASCII as character references: the output reads the same whatever encoding the
    # notebook's page is served or saved in
    doc = doc.encode("ascii", "xmlcharrefreplace").decode("ascii")
    # wrapped in a div: IPython warns about a bare <iframe> (suggesting IFrame, which needs a URL)
    return (
        '<div class="lstm-viz">'
        f"<iframe class=\"lstm-viz-explorer\" srcdoc='{doc}' "
        f'style="width: 100%; height: {int(height)}px; border: 1px solid #ddd" '
        'title="lstm_viz gate explorer"></iframe></div>'
    )


def show(trace: LSTMTrace, height: int | None = None, **options) -> None:
    """Show the gate explorer inline in Jupyter (JupyterLab, VS Code, classic; same options as
    `trace_html`). Stepping runs in the browser, so it also works in the saved notebook's HTML."""
    try:
        from IPython.display import HTML, display
    except ImportError:
        raise ImportError(
            "show() draws in Jupyter and needs IPython (pip install jupyterlab); "
            "outside a notebook, write a page with lstm_viz.trace_html(trace, 'trace.html')"
        ) from None
    display(HTML(iframe_html(trace, height, **options)))


# ---- pieces ------------------------------------------------------------------------------------
def _one_sequence(tr: LSTMTrace, name: str, layer, direction, batch) -> np.ndarray:
    values = tr.gate(name, layer, direction)
    if not tr.batched:
        if batch not in (None, 0):
            raise ValueError(f"this trace holds one sequence; use batch=0, not {batch}")
        return values
    b = 0 if batch is None else whole_number(batch, "batch")
    if not 0 <= b < tr.batch_size:
        raise ValueError(f"batch {b} out of range; the trace holds {tr.batch_size} sequences")
    return values[b]


def _filled_steps(full: dict) -> int:
    """Steps up to the last one with any value: a packed sequence's padding (NaN) is cut off."""
    filled = np.zeros(next(iter(full.values())).shape[0], dtype=bool)
    for v in full.values():
        filled |= ~np.isnan(v).all(axis=1)
    if not filled.any():
        raise ValueError("this sequence has no values (all NaN); pick another batch index")
    return int(np.flatnonzero(filled)[-1]) + 1


def _before(tr, full, carried, layer, direction, batch, start, stop, units, state) -> list[float]:
    """The carried state just before the first step read: the step before the window in reading
    order, or the initial state (zeros unless `state` is given) at the sequence's edge."""
    values = full[carried]
    inside = start - 1 if direction == 0 else stop
    if 0 <= inside < len(values):
        return [float(v) for v in values[inside, units]]
    if state is None:
        return [0.0] * len(units)
    part = state if tr.kind != "lstm" else state[1 if carried == "cell" else 0]
    part = np.asarray(part.detach() if hasattr(part, "detach") else part, dtype=np.float64)
    k = layer * tr.num_directions + direction
    want = (tr.num_layers * tr.num_directions, values.shape[1])
    if part.ndim == 3:  # a batched state: this sequence's
        part = part[:, batch or 0]
    if part.shape != want:
        raise ValueError(f"state has shape {part.shape}; expected {want} as the module takes it")
    return [float(v) for v in part[k, units]]


def _pack(values: np.ndarray) -> dict:
    """(W, U) values as little-endian float16 (float32 if they overflow it), base64."""
    finite = values[np.isfinite(values)]
    big = finite.size and float(np.abs(finite).max()) > FLOAT16_MAX
    dtype = "<f4" if big else "<f2"
    raw = np.ascontiguousarray(values, dtype=dtype).tobytes()
    return {"dtype": dtype[1:], "b64": base64.b64encode(raw).decode("ascii")}


def _bits(mask: np.ndarray) -> str:
    """(W, U) bool as packed bits (row-major, most significant bit first), base64."""
    return base64.b64encode(np.packbits(mask.ravel()).tobytes()).decode("ascii")


def _without_values(fig) -> dict:
    """The figure as plain JSON without heatmap values (the script fills them in) and with
    hover at the 3 decimals the stored float16 values carry."""
    spec = json.loads(pio.to_json(fig, validate=False))
    for t in spec["data"]:
        if t.get("type") == "heatmap":
            t["z"] = []
            t["hovertemplate"] = t["hovertemplate"].replace(":.4f}", ":.3f}")
    return spec


def _json(obj) -> str:
    """JSON safe inside a <script> element: no '<', '>' or '&' can end it or open a tag."""
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _figure_part(page: str) -> str:
    head = page.index('-figure">') + len('-figure">')
    return page[head : page.index("</script>", head)]
