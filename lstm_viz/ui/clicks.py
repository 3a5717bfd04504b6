"""Click a heatmap cell to go there.

Streamlit does not report clicks on Plotly heatmaps (streamlit issues #8760, #15042), so a small
`st.components.v2` component with no face of its own listens to the heatmaps already in the page:
it hooks Plotly's own `plotly_click` event on the charts whose keys it is given and sends back
which map, row and column was clicked. The heatmaps stay ordinary `st.plotly_chart`s. The view
maps (row, column) to (unit, step) and asks the state owner to move there.

The script is our own constant (no user text reaches it); the data it gets is a list of chart keys.
"""

from __future__ import annotations

import streamlit as st

JS = """
export default function (component) {
  const { data, setTriggerValue } = component;
  const hooked = new WeakSet();
  const hook = () => {
    for (const key of (data && data.keys) || []) {
      for (const gd of document.querySelectorAll(`.st-key-${key} .js-plotly-plot`)) {
        if (hooked.has(gd) || typeof gd.on !== "function") continue;
        hooked.add(gd);
        gd.on("plotly_click", (ev) => {
          const p = ev && ev.points && ev.points[0];
          if (!p || !Array.isArray(p.pointIndex)) return;  // heatmap cells only
          setTriggerValue("cell", {
            key: key, map: p.curveNumber, row: p.pointIndex[0], col: p.pointIndex[1],
            at: Date.now(),
          });
        });
      }
    }
  };
  hook();
  const timer = setInterval(hook, 400);  // charts are redrawn and remounted as the page reruns
  return () => clearInterval(timer);
}
"""

_component = None


def clicked_cell(keys: list[str], key: str) -> dict | None:
    """Mount the listener for the charts with these keys; the cell clicked since the last run
    ({"key", "map", "row", "col"}), or None."""
    global _component
    if _component is None:  # registered once per process (re-registering logs a warning)
        _component = st.components.v2.component("lstm_viz.heatmap_clicks", js=JS)
    result = _component(data={"keys": list(keys)}, key=key, on_cell_change=lambda: None)
    cell = getattr(result, "cell", None)
    if not isinstance(cell, dict):
        return None
    try:
        return {
            k: (str(cell[k]) if k == "key" else int(cell[k])) for k in ("key", "map", "row", "col")
        }
    except (KeyError, TypeError, ValueError):  # a crafted client: ignore it
        return None
