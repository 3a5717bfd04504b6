"""RNN vs GRU vs LSTM: curves over the steps of one input (saliency, one per core), accuracy
against the gap, and the adding problem's error against the length.

Arrays and labels in, `go.Figure` out; nothing here knows about models or Streamlit. User text
(tokens, CSV labels) goes through `style.safe` before Plotly sees it.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from lstm_viz.figures.style import FONT, PALETTE, base_layout, safe

COLOURS = {  # one colour per core everywhere in the app's comparisons
    "RNN (tanh)": "#d95f02",
    "GRU": "#7570b3",
    "LSTM": "#1b9e77",
    "always 1.0": "#888888",
}


def step_lines(
    lines: dict[str, np.ndarray],
    labels: list[str],
    step: int | None = None,
    ylabel: str = "value",
    log: bool = False,
    title: str = "",
    marks: dict[int, str] | None = None,
    height: int = 340,
    *,
    font: int | None = None,
) -> go.Figure:
    """Curves over the steps of one input (name -> (T,)), a band at `step`, labelled `marks`.

    On a log axis, values of exactly 0 (a float that underflowed, two states that merged) are
    drawn at a floor below the smallest positive value and the floor is named in the title. With
    a title the legend gets a row of its own below it, so the two never overlap.
    font: every text at this many px, for a projector (None: 14 px); larger text shows fewer
    step ticks so they do not overlap.
    """
    if not lines:
        raise ValueError("no curves to draw; pass e.g. {'forget': values}")
    if font is not None and font <= 0:
        raise ValueError(f"font {font} px: give a positive size such as 16, or None")
    steps = len(labels)
    for name, v in lines.items():
        if np.shape(v) != (steps,):
            raise ValueError(f"{name} has shape {np.shape(v)}; need one value per step ({steps})")
    px = font or FONT["size"]
    floor = None
    if log:
        positive = [np.min(v[v > 0]) for v in map(np.asarray, lines.values()) if (v > 0).any()]
        floor = 10 ** np.floor(np.log10(min(positive))) / 10 if positive else 1e-300
    hover = [f"{k} · {safe(s, 16)}" for k, s in enumerate(labels)]
    data = []
    for k, (name, v) in enumerate(lines.items()):
        y = np.asarray(v, dtype=np.float64)
        if floor is not None:
            y = np.where(np.isnan(y) | (y > 0), y, floor)  # NaN stays a gap in the line
        data.append(
            go.Scatter(
                x=np.arange(steps),
                y=y,
                name=safe(name, 48),
                mode="lines",
                line=dict(width=2.5, color=COLOURS.get(name, PALETTE[k % len(PALETTE)])),
                customdata=hover,
                hovertemplate="step %{customdata}<br>%{y:.4g}<extra>" + safe(name, 40) + "</extra>",
            )
        )
    if floor is not None and any((np.asarray(v) <= 0).any() for v in lines.values()):
        title = f"{title} (exact zeros drawn at {floor:.0e})".strip()
    layout = base_layout(height, title, large=True)
    layout["font"] = dict(FONT, size=px)
    layout["title"]["font"] = dict(size=px + 1)
    if title:  # the title on the top row, the legend on a row of its own right below it
        legend_row = round(1.6 * px) + 6
        layout["title"] |= dict(yref="container", y=1, yanchor="top", pad=dict(t=6))
        layout["legend"] = dict(orientation="h", y=1, yanchor="bottom", x=0, xanchor="left")
        layout["margin"] = dict(layout["margin"], t=round(1.4 * (px + 1)) + 6 + legend_row)
    layout["legend"] = dict(layout.get("legend") or {}, font=dict(size=px))  # no smaller text
    fig = go.Figure(data, layout)
    if step is not None and 0 <= step < steps:
        fig.add_vrect(x0=step - 0.5, x1=step + 0.5, fillcolor="orange", opacity=0.3, line_width=0)
    for at, text in (marks or {}).items():  # inside the plot, at the bottom: clear of the legend
        fig.add_vline(x=at, line=dict(color="#444", dash="dot", width=1.5))
        fig.add_annotation(
            x=at, y=0, yref="paper", text=safe(text, 30), showarrow=False, yanchor="bottom",
            xanchor="left" if at < steps / 2 else "right", bgcolor="rgba(255,255,255,0.8)",
            font=dict(size=px),
        )  # fmt: skip
    # "12 the" at -40 degrees needs about twice its size between ticks: 16 ticks at 14 px
    every = max(1, int(np.ceil(steps / (16 * FONT["size"] / px))))
    ticks = list(range(0, steps, every))
    fig.update_xaxes(
        title="step",
        tickvals=ticks,
        ticktext=[f"{k} {safe(labels[k], 10)}" for k in ticks],
        tickangle=-40,
        range=[-0.5, steps - 0.5],
        tickfont=dict(size=px),
    )
    fig.update_yaxes(  # a projector: 1e-3 rather than 10 with a superscript of 70% the size
        title=ylabel, type="log" if log else "linear", tickfont=dict(size=px),
        exponentformat="power" if font is None else "e",
    )  # fmt: skip
    return fig


def _bars(row: dict, value: str) -> dict | None:
    """Asymmetric error bars from {x: {"lo", "hi", value}} rows, or None without intervals."""
    if not all("lo" in c and "hi" in c for c in row.values()):
        return None
    return dict(
        type="data", symmetric=False, thickness=2, width=6,
        array=[c["hi"] - c[value] for c in row.values()],
        arrayminus=[c[value] - c["lo"] for c in row.values()],
    )  # fmt: skip


def accuracy_by_gap(
    table: dict[str, dict[int, dict]], gap: int | None = None, source: str = ""
) -> go.Figure:
    """Accuracy (0..1) against the gap, one line per core, each point with its 95% interval as
    an error bar; a band at `gap`. table: core -> {gap: {"value", "lo", "hi", "n"}}."""
    data = []
    for name, row in table.items():
        pct = {g: {k: 100 * c[k] for k in ("value", "lo", "hi") if k in c} for g, c in row.items()}
        hover = []
        for g, c in pct.items():
            n = f", n = {row[g]['n']:,}" if "n" in row[g] else ""
            ci = f" (95% CI {c['lo']:.2f}–{c['hi']:.2f}%{n})" if "lo" in c else ""
            hover.append(f"{c['value']:.2f}%{ci}")
        data.append(
            go.Scatter(
                x=list(row), y=[c["value"] for c in pct.values()], name=name,
                mode="lines+markers", line=dict(width=3, color=COLOURS.get(name)),
                marker=dict(size=9), error_y=_bars(pct, "value"), customdata=hover,
                hovertemplate="gap %{x}: %{customdata}<extra>" + name + "</extra>",
            )
        )  # fmt: skip
    fig = go.Figure(data, base_layout(330, "", large=True))  # the view's heading names it
    if gap is not None:
        fig.add_vline(x=gap, line=dict(color="orange", width=3))
    fig.update_xaxes(
        title="gap (filler tokens)", type="log", tickvals=[5, 10, 20, 50, 100, 200, 400]
    )
    fig.update_yaxes(title="accuracy (%), 95% CI bars", range=[0, 105])
    _source(fig, source)
    return fig


def adding_mse(
    table: dict[str, dict[int, float]], source: str = "", fresh: dict[str, dict] | None = None
) -> go.Figure:
    """Adding-problem test MSE against the sequence length T, one line per core (log y).

    table: row -> {T: MSE} (recorded, no intervals); fresh: row -> {"T", "value", "lo", "hi",
    "n"}: a re-measured point per row, drawn as a diamond with its 95% interval as a bar.
    """
    data = [
        go.Scatter(
            x=list(row),
            y=list(row.values()),
            name=name,
            legendgroup=name,
            mode="lines+markers",
            line=dict(
                width=3, color=COLOURS.get(name), dash="dash" if name == "always 1.0" else None
            ),
            marker=dict(size=9),
            hovertemplate="T=%{x}: MSE %{y:.4f}<extra>" + name + "</extra>",
        )
        for name, row in table.items()
    ]
    for name, c in (fresh or {}).items():
        ci = f"95% CI {c['lo']:.4f}–{c['hi']:.4f}, n = {c['n']:,}"
        data.append(
            go.Scatter(
                x=[c["T"]], y=[c["value"]], name=f"{name}, fresh", legendgroup=name,
                showlegend=False, mode="markers",
                marker=dict(size=13, symbol="diamond-open", color=COLOURS.get(name), line_width=2),
                error_y=_bars({c["T"]: c}, "value"),
                hovertemplate=f"T=%{{x}}, fresh: MSE %{{y:.4f}} ({ci})<extra>{name}</extra>",
            )
        )  # fmt: skip
    fig = go.Figure(data, base_layout(330, "", large=True))  # the view's heading names it
    fig.update_xaxes(
        title="sequence length T",
        type="log",
        tickvals=sorted({t for r in table.values() for t in r}),
    )
    fig.update_yaxes(
        title="test MSE (lower is better)", type="log", dtick=1, exponentformat="power"
    )
    _source(fig, source)
    return fig


def _source(fig: go.Figure, source: str) -> None:
    """Where the numbers come from, in small type below the plot."""
    if source:
        fig.add_annotation(
            x=0, y=-0.28, xref="paper", yref="paper", text=safe(source, 200), showarrow=False,
            xanchor="left", font=dict(size=11, color="#555"),
        )  # fmt: skip
