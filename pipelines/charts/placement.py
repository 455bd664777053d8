"""Labels beside their points, placed where they overlap no other label, no marker and
nothing outside the axes: tried at growing distances in eight directions, then tied to
their point by a thin leader line."""

from __future__ import annotations

import math
from dataclasses import dataclass

from matplotlib.axes import Axes
from matplotlib.backend_bases import RendererBase
from matplotlib.text import Annotation, Text
from matplotlib.transforms import Bbox

# Offsets from the point in typographic points: the nearest free place wins.
_RADII = (10, 18, 28, 40, 55, 75, 100)
_ANGLES = (45, -45, 135, -135, 0, 180, 90, -90)
_PAD_PX = 2


@dataclass(frozen=True)
class Labelled:
    """A point to label (in data coordinates), and its marker's radius, which labels keep clear of."""

    x: float
    y: float
    text: str
    marker_radius_pt: float = 5.0


def text_box(annotation: Annotation, renderer: RendererBase) -> Bbox:
    """The label's own box, without its leader line (Annotation's own box includes it)."""
    annotation.update_positions(renderer)  # an annotation learns where it is only when drawn
    return Text.get_window_extent(annotation, renderer)


def _overlaps(box: Bbox, others: list[Bbox]) -> bool:
    return any(box.overlaps(o) for o in others)


def _marker_box(ax: Axes, p: Labelled) -> Bbox:
    x, y = ax.transData.transform((p.x, p.y))
    r = p.marker_radius_pt * ax.figure.dpi / 72
    return Bbox.from_extents(x - r, y - r, x + r, y + r)


def _alignment(angle: float) -> tuple[str, str]:
    """Text grows away from its point: to the right of a point it starts at the offset, and so on."""
    dx, dy = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    ha = "left" if dx > 0.1 else "right" if dx < -0.1 else "center"
    va = "bottom" if dy > 0.1 else "top" if dy < -0.1 else "center"
    return ha, va


def place(ax: Axes, points: list[Labelled], fontsize: float = 9) -> list[Annotation]:
    """Annotates each point; set the axes' limits first (placement is in display space)."""
    renderer = ax.figure.canvas.get_renderer()
    inside = ax.get_window_extent(renderer)
    taken = [_marker_box(ax, p) for p in points]
    placed = []
    for p in points:
        offset, box = (_RADII[-1], 0.0), None
        for radius in _RADII:
            for angle in _ANGLES:
                trial = _annotate(ax, p, radius, angle, fontsize, leader=False)
                candidate = text_box(trial, renderer).padded(_PAD_PX)
                trial.remove()
                if inside.contains(candidate.x0, candidate.y0) and inside.contains(candidate.x1, candidate.y1):
                    if not _overlaps(candidate, taken):
                        offset, box = (radius, angle), candidate
                        break
            if box is not None:
                break
        # With no free place (a crowded chart), the farthest one still names its point.
        label = _annotate(ax, p, *offset, fontsize, leader=True)
        taken.append(box if box is not None else text_box(label, renderer).padded(_PAD_PX))
        placed.append(label)
    return placed


def _annotate(ax: Axes, p: Labelled, radius: float, angle: float, fontsize: float, leader: bool) -> Annotation:
    ha, va = _alignment(angle)
    xytext = (radius * math.cos(math.radians(angle)), radius * math.sin(math.radians(angle)))
    arrow = {"arrowstyle": "-", "color": "0.45", "linewidth": 0.8, "shrinkA": 1, "shrinkB": 5} if leader else None
    return ax.annotate(
        p.text,
        (p.x, p.y),
        xytext=xytext,
        textcoords="offset points",
        ha=ha,
        va=va,
        fontsize=fontsize,
        arrowprops=arrow,
        zorder=5,
    )
