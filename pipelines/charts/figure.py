"""What the charts share: a Figure on the Agg canvas, a threshold line, saving as PNG.

Figures are made with `matplotlib.figure.Figure` on an Agg canvas rather than through pyplot:
no display is needed, and drawing a chart neither selects a backend for the whole process
nor leaves figures open in pyplot's global state.
"""

from __future__ import annotations

from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

DPI = 100
THRESHOLD_COLOR = "#c0392b"


def new_figure(width_in: float, height_in: float) -> Figure:
    fig = Figure(figsize=(width_in, height_in), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def threshold(ax: Axes, value: float, label: str) -> Line2D:
    """A dashed horizontal line at y = value (a latency SLA), named in the legend."""
    return ax.axhline(value, color=THRESHOLD_COLOR, linestyle="--", linewidth=1.5, label=label, zorder=1)


def save_png(fig: Figure, path: Path) -> None:
    # No bbox_inches="tight": the PNG keeps the figure's own size in pixels.
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", dpi=DPI)
