"""Charts: DataFrame in, plotly figure out. Colours from the colour-blind-safe palette."""

from __future__ import annotations

import html
import math

import pandas as pd
import plotly.graph_objects as go

from .style import BAND_COLOURS, BAND_LABELS

BAND_ORDER = ("good", "medium", "poor", "no rating")


def rating_by_category(by_category: pd.DataFrame) -> go.Figure:
    """Stacked horizontal bars: components per category, split by rating band."""
    totals = by_category.groupby("category")["components"].sum().sort_values()
    fig = go.Figure()
    for band in BAND_ORDER:
        part = by_category[by_category["band"] == band].set_index("category")["components"]
        part = part.reindex(totals.index, fill_value=0)
        if not part.any():
            continue
        fig.add_bar(
            y=[html.escape(str(c)) for c in part.index],  # plotly reads a little HTML
            x=list(part.to_numpy()),
            name=BAND_LABELS.get(band, band),
            orientation="h",
            marker_color=BAND_COLOURS[band],
            hovertemplate="%{y}: %{x} components<extra>" + BAND_LABELS.get(band, band) + "</extra>",
        )
    fig.update_layout(
        barmode="stack",
        height=max(220, 28 * len(totals) + 90),
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0, "traceorder": "normal"},
        xaxis={"title": "components", "dtick": max(1, math.ceil(totals.max() / 8)) if len(totals) else 1},
        yaxis_title=None,
    )
    return fig
