"""The gate explorer as one self-contained HTML page: `trace_html` (a file), `show` (Jupyter).

How it is built: `explorer_data.py` packs the trace (the app's own heatmap figure with its values
taken out; the values once, as float16 in base64); this module wraps them in a page whose script
(static/explorer.js) decodes them, puts them back into the heatmaps and reads each step's numbers
for the panel from them. plotly.js is inlined once. A step moves a marker box laid over the maps
and rewrites the panel in the browser: no server, no kernel round trip, no network.
`show` puts the same page in an iframe (srcdoc), so several explorers coexist in one notebook and
each keeps working in the saved notebook's HTML.

User text (labels, title) reaches the page only as escaped JSON and is shown with textContent; the
figure's own labels are escaped by `figures.safe`.
"""

from __future__ import annotations

import hashlib
import html
import json
from pathlib import Path

from plotly.offline import get_plotlyjs

from lstm_viz.explorer_data import explorer_data, map_names
from lstm_viz.trace_result import LSTMTrace

# explorer_data and map_names live in explorer_data.py; named here too, where callers found them
__all__ = ["explorer_data", "iframe_html", "map_names", "page_html", "show", "trace_html"]

STATIC = Path(__file__).parent / "static"


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
def _json(obj) -> str:
    """JSON safe inside a <script> element: no '<', '>' or '&' can end it or open a tag."""
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _figure_part(page: str) -> str:
    head = page.index('-figure">') + len('-figure">')
    return page[head : page.index("</script>", head)]
