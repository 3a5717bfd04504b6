"""Figures of a trace: numpy arrays and labels in, `plotly.graph_objects.Figure` (or, for the
panels redrawn at every step, SVG text) out.

Nothing here knows about models, traces or Streamlit, so every figure works the same in a
notebook, in the app and in an exported HTML file. One module per thing drawn:

    style        colour scales, template and margins, ticks, escaping of user text
    heatmaps     gates and states over time, the overview, every unit at one step
    ranking      units ranked against a signal, with the band chance reaches
    memory       retention, saliency, gate saturation
    predictions  the likeliest outputs at a step; predictions before and after a clamp
    comparison   RNN vs GRU vs LSTM curves and recorded tables
    forecast     a series with one-step and multi-step forecasts
    strip        every unit at one step (SVG), beside the heatmaps
    diagram      the cell diagram: one geometry, drawn in Plotly (and in SVG by diagram_svg)
    svg          SVG primitives (text, a tiny PNG) for the per-step panels, projector sizes

    from lstm_viz import figures
    figures.gate_heatmaps({"forget": tr.gate("forget")}, tr.labels)
"""

from lstm_viz.figures.comparison import accuracy_by_gap, adding_mse, step_lines
from lstm_viz.figures.diagram import cell_diagram, cell_geometry, input_name
from lstm_viz.figures.diagram_svg import cell_diagram_svg, diagram_width
from lstm_viz.figures.forecast import forecast_figure
from lstm_viz.figures.heatmaps import gate_heatmaps, heatmap_margin, overview
from lstm_viz.figures.memory import retention_figure, saliency_figure, saturation_figure
from lstm_viz.figures.predictions import (
    output_change_figure,
    prediction_bars,
    prediction_change_figure,
)
from lstm_viz.figures.ranking import ranked_units_figure
from lstm_viz.figures.strip import unit_strip
from lstm_viz.figures.style import MARGIN, safe, step_categories
from lstm_viz.figures.terms import drivers_lines, terms_waterfall

__all__ = [
    "MARGIN",
    "accuracy_by_gap",
    "adding_mse",
    "cell_diagram",
    "cell_diagram_svg",
    "cell_geometry",
    "diagram_width",
    "drivers_lines",
    "forecast_figure",
    "gate_heatmaps",
    "heatmap_margin",
    "input_name",
    "output_change_figure",
    "overview",
    "prediction_bars",
    "prediction_change_figure",
    "ranked_units_figure",
    "retention_figure",
    "saliency_figure",
    "safe",
    "saturation_figure",
    "step_categories",
    "step_lines",
    "terms_waterfall",
    "unit_strip",
]
