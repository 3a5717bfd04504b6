"""A session's first page shows the maps as previews, then the Plotly charts (ui/first_paint.py):
the run modes through AppTest, the swap in a real browser."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import charts, open_app, run

from lstm_viz.ui import first_paint

ROOT = Path(__file__).resolve().parents[1]


def _previews(at) -> list[str]:
    return [h.proto.body for h in at.get("html") if 'class="lv-preview"' in h.proto.body]


def _painted_trigger(at) -> bool:
    return any(
        str(getattr(e.proto, "id", "")).endswith("-lv_painted") for e in at.get("bidi_component")
    )


def test_modes_preview_then_swap_then_live(monkeypatch):
    monkeypatch.setattr(first_paint, "_served", lambda: True)  # as under `streamlit run`
    at = open_app()
    assert "lv_heatmaps" not in charts(at)  # the first page: no Plotly chart
    assert len(_previews(at)) == 1 and _painted_trigger(at)
    run(at)  # what the component's request for the charts brings: the swap
    assert "lv_heatmaps" in charts(at) and len(_previews(at)) == 1
    assert not _painted_trigger(at)
    run(at)  # from now on, the charts alone
    assert "lv_heatmaps" in charts(at) and not _previews(at)


def test_other_first_views_and_apptest_are_live_from_the_start(monkeypatch):
    assert "lv_heatmaps" in charts(open_app()) and not _previews(open_app())  # no browser
    monkeypatch.setattr(first_paint, "_served", lambda: True)
    at = open_app("memory")
    assert "lv_mem_retention" in charts(at) and not _painted_trigger(at)


# in the page from its first script on: when the maps' preview is first painted (and whether a
# chart was there yet), and when the chart is; where each map's cells and the step band lie
WATCH = """
window.lvPaint = {};
const rel = (el, box) => {
  const r = el.getBoundingClientRect(), b = box.getBoundingClientRect();
  return [r.left - b.left, r.top - b.top, r.width, r.height];
};
const tick = () => {
  const box = document.querySelector('.st-key-lv_heatmaps_box');
  const img = document.querySelector('.st-key-lv_heatmaps_box .lv-preview img');
  const layer = document.querySelector('.st-key-lv_heatmaps .heatmaplayer image');
  const rec = window.lvPaint;
  const side = document.querySelector('[data-testid=stSidebar]');  // widest seen while loading
  rec.sidebar = Math.max(rec.sidebar || 0, side ? side.getBoundingClientRect().width : 0);
  if (box && img && img.complete && img.getBoundingClientRect().width > 0 && !rec.preview) {
    rec.preview = performance.now();
    rec.chartThen = !!document.querySelector('.st-key-lv_heatmaps .main-svg');
  }
  const shown = document.querySelector('.lv-preview');
  if (rec.preview && shown && shown.getClientRects().length) {
    // as the preview shows last (its first frame may come before the page's final layout,
    // e.g. presenter mode's CSS folding the sidebar away)
    rec.band = getComputedStyle(shown, '::after').left;
    rec.previewCells = rel(shown.querySelector('img'), box);
    rec.previewHeight = shown.getBoundingClientRect().height;
  }
  if (box && layer && layer.getBoundingClientRect().width > 0 && !rec.chart) {
    rec.chart = performance.now();
    rec.chartCells = rel(layer, box);
    rec.chartHeight = document.querySelector('.st-key-lv_heatmaps .js-plotly-plot')
      .getBoundingClientRect().height;
  }
  if (!rec.chart) requestAnimationFrame(tick);
};
requestAnimationFrame(tick);
"""


@pytest.mark.browser
@pytest.mark.parametrize("query", ["", "?present=1"])
def test_the_first_page_paints_previews_then_swaps_in_the_charts(query):
    """A fresh session's page shows the maps before Plotly's script has run, then the charts
    in the very same place; the preview goes once the chart has drawn."""
    sync_api = pytest.importorskip("playwright.sync_api")
    from browser_util import CHROMIUM, chromium_context, streamlit_server

    if not Path(CHROMIUM).exists():
        pytest.skip("needs Debian's chromium")
    with (
        streamlit_server() as url,
        sync_api.sync_playwright() as p,
        chromium_context(p, 1280, 720) as ctx,
    ):
        ctx.add_init_script(WATCH)
        page = ctx.new_page()
        page.goto(url + "/" + query)
        page.wait_for_function("() => window.lvPaint && window.lvPaint.chart", timeout=120_000)
        rec = page.evaluate("window.lvPaint")
        assert rec.get("preview"), rec  # the preview was painted ...
        assert rec["preview"] < rec["chart"] and not rec["chartThen"], rec  # ... before a chart
        assert rec["band"].endswith("px"), rec  # the step band sits on the preview too
        # presenter mode: the sidebar never shows, not even before the page's own CSS
        assert (rec["sidebar"] == 0) == (query == "?present=1"), rec
        assert abs(rec["previewHeight"] - rec["chartHeight"]) <= 1, rec  # nothing moves
        # the first map's cells: same place and size in the preview and the chart
        pairs = zip(rec["previewCells"], rec["chartCells"], strict=True)
        assert all(abs(a - b) <= 2 for a, b in pairs), str(rec)
        page.wait_for_function(
            "() => !document.querySelector('.lv-preview').getClientRects().length",
            timeout=10_000,
        )
        # the next whole run ("live"): an empty placeholder in the preview's place; the chart
        # is neither moved nor drawn again
        where = (
            "() => { const g = document.querySelector('.st-key-lv_heatmaps .js-plotly-plot');"
            " g.dataset.lvMark = g.dataset.lvMark || 'first'; const r = g.getBoundingClientRect(),"
            " b = document.querySelector('.st-key-lv_heatmaps_box').getBoundingClientRect();"
            " return [r.top - b.top, r.height, g.dataset.lvMark]; }"
        )
        before = page.evaluate(where)
        page.locator(".st-key-lv_exact label").first.click()  # a whole run
        page.wait_for_selector("[data-testid='stDataFrame']", timeout=30_000)
        page.wait_for_function("() => !document.querySelector('.lv-preview')", timeout=30_000)
        assert page.evaluate(where) == before == [0, rec["chartHeight"], "first"]
        errors = page.locator("[data-testid='stException'], [data-testid='stAlertContentError']")
        assert errors.count() == 0
