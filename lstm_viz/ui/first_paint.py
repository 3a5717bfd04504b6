"""A session's first page without Plotly's script: the maps as static previews, then the charts.

Starting Plotly's script (4.7 MB) takes about 0.8 s of a laptop browser's main thread, and a page
that draws a Plotly chart paints nothing else until it has. So a session's first run in the gates
view draws its heatmaps as `figures.preview_html` (same size, colours, ticks and keys) and mounts
a small `st.components.v2` component with no face. Once the previews' images are painted, its
script asks for a rerun, then starts Plotly's script while the server runs it. That run (the
"swap") draws the charts under the previews. CSS hides each preview once its chart has drawn, so
nothing blinks or moves. From the next run on, an empty placeholder keeps the chart's place in
the page (Streamlit would otherwise remount it).

Modes, per session: "preview" (the first run), "swap" (the run after it), "live". Sessions that
start in another view, and scripts run without a browser (AppTest), are live from the start.
"""

from __future__ import annotations

import streamlit as st

from lstm_viz.figures.preview import preview_html
from lstm_viz.ui import state
from lstm_viz.ui.preload import chunk_path

MODE = "lv_first_paint"
TRIGGER_KEY = "lv_painted"

JS = """
export default function (component) {
  const { data, setTriggerValue } = component;
  let done = false;
  const painted = () => {
    const images = [...document.querySelectorAll(".lv-preview img")];
    return images.length > 0 && images.every((im) => im.complete);
  };
  const fire = () => {
    if (done) return;
    done = true;
    clearInterval(timer);
    clearTimeout(fallback);
    // two frames on, the previews are on screen: ask for the charts, and start Plotly's
    // script while the server draws them
    requestAnimationFrame(() => requestAnimationFrame(() => {
      setTriggerValue("painted", Date.now());
      if (data && data.script) {
        import(new URL(data.script, document.baseURI).href).catch(() => {});
      }
    }));
  };
  const timer = setInterval(() => { if (painted()) fire(); }, 50);
  const fallback = setTimeout(fire, 3000);  // previews that never load: charts anyway
  return () => { clearInterval(timer); clearTimeout(fallback); };
}
"""

_component = None


def _served() -> bool:
    """Whether a browser shows this run (`streamlit run`), not AppTest (whose Runtime is a
    mock: no browser would ever paint the previews and ask for the charts) or bare Python."""
    from streamlit.runtime import Runtime

    return Runtime.exists() and type(Runtime.instance()) is Runtime


def begin(first_run: bool, view: str) -> str:
    """Set this run's mode (call once per full run, before anything is drawn); returns it."""
    before = state.stashed(MODE)
    if before is None:
        mode = "preview" if first_run and view == "gates" and _served() else "live"
    else:
        mode = "swap" if before == "preview" else "live"
    state.stash(MODE, mode)
    return mode


def chart(spec: dict, key: str, **plotly_args):
    """`st.plotly_chart(spec, key=key, ...)` in a box that holds the chart's preview while this
    session's page has no Plotly yet; returns what st.plotly_chart does (None while previewed)."""
    mode = state.stashed(MODE) or "live"
    with st.container(key=f"{key}_box"):
        if mode == "live":
            st.empty()  # the preview's place: the chart below stays where it was
        else:
            st.html(_swap_css(key) + preview_html(spec))
        if mode == "preview":
            return None
        return st.plotly_chart(spec, key=key, **plotly_args)


def _swap_css(key: str) -> str:
    """Until the chart has drawn, it sits hidden over its preview; then the preview goes."""
    box = f".st-key-{key}_box"
    return (
        f"<style>{box} {{position: relative}}"
        # the preview's whole element, or the gap before the next one would stay
        f"{box}:has(.st-key-{key} .main-svg) .stElementContainer:has(.lv-preview)"
        " {display: none}"
        f"{box}:not(:has(.st-key-{key} .main-svg)) .st-key-{key}"
        " {position: absolute; top: 0; left: 0; right: 0; visibility: hidden}</style>"
    )


def finish() -> None:
    """At the end of a preview run: mount the component that asks for the charts."""
    global _component
    if state.stashed(MODE) != "preview":
        return
    if _component is None:  # registered once per process
        _component = st.components.v2.component("lstm_viz.first_paint", js=JS)
    script = chunk_path()
    _component(data={"script": script}, key=TRIGGER_KEY, on_painted_change=lambda: None)
