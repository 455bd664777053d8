"""Scatter and line charts as PNG: the recommender's trade-offs, the benchmarks' curves."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

from steps.png import GLYPH_H, RGB, Canvas, text_width

INK: RGB = (40, 40, 40)
GRID: RGB = (228, 228, 228)
RED: RGB = (200, 40, 40)
GREEN: RGB = (20, 150, 60)
BLUE: RGB = (40, 90, 200)
ORANGE: RGB = (230, 130, 20)
GREY: RGB = (150, 150, 150)

_LEFT, _RIGHT, _TOP, _BOTTOM = 90, 30, 56, 70


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    label: str = ""
    highlight: bool = False


@dataclass(frozen=True)
class Series:
    name: str
    color: RGB
    points: list[Point]
    connect: bool = False


@dataclass(frozen=True)
class RefLine:
    """A horizontal line at y = value (e.g. the latency SLA)."""

    value: float
    label: str
    color: RGB = RED


@dataclass
class Chart:
    title: str
    x_label: str
    y_label: str
    series: list[Series]
    ref_lines: list[RefLine] = field(default_factory=list)
    width: int = 900
    height: int = 560
    log_y: bool = False

    def png(self) -> bytes:
        canvas = Canvas(self.width, self.height)
        xs = [p.x for s in self.series for p in s.points] or [0.0, 1.0]
        ys = [p.y for s in self.series for p in s.points] + [r.value for r in self.ref_lines] or [0.0, 1.0]
        x_ticks = _ticks(min(0.0, min(xs)), max(xs))
        y_ticks = _log_ticks(min(ys), max(ys)) if self.log_y else _ticks(min(0.0, min(ys)), max(ys))
        plot = _Plot(self.width, self.height, x_ticks, y_ticks, self.log_y)
        self._axes(canvas, plot, x_ticks, y_ticks)
        for ref in self.ref_lines:
            y = plot.py(ref.value)
            canvas.line(_LEFT, y, self.width - _RIGHT, y, ref.color, dash=6)
            canvas.text(self.width - _RIGHT - text_width(ref.label) - 4, y - GLYPH_H - 4, ref.label, ref.color)
        taken: list[tuple[int, int, int, int]] = []
        for s in sorted(self.series, key=lambda s: not any(p.highlight for p in s.points)):
            self._series(canvas, plot, s, taken)
        self._legend(canvas)
        return canvas.png()

    def _axes(self, canvas: Canvas, plot: _Plot, x_ticks: list[float], y_ticks: list[float]) -> None:
        right, bottom = self.width - _RIGHT, self.height - _BOTTOM
        for t in x_ticks:
            x = plot.px(t)
            canvas.line(x, _TOP, x, bottom, GRID)
            label = _fmt(t)
            canvas.text(x - text_width(label) // 2, bottom + 8, label, INK)
        for t in y_ticks:
            y = plot.py(t)
            canvas.line(_LEFT, y, right, y, GRID)
            label = _fmt(t)
            canvas.text(_LEFT - text_width(label) - 6, y - GLYPH_H // 2, label, INK)
        canvas.line(_LEFT, bottom, right, bottom, INK)
        canvas.line(_LEFT, _TOP, _LEFT, bottom, INK)
        canvas.text(_LEFT, 14, self.title, INK, scale=2)
        canvas.text((_LEFT + right - text_width(self.x_label)) // 2, self.height - 30, self.x_label, INK)
        canvas.text(8, _TOP - 18, self.y_label, INK)

    def _series(self, canvas: Canvas, plot: _Plot, s: Series, taken: list[tuple[int, int, int, int]]) -> None:
        pts = [(plot.px(p.x), plot.py(p.y), p) for p in s.points]
        if s.connect:
            for (x0, y0, _), (x1, y1, _) in itertools.pairwise(pts):
                canvas.line(x0, y0, x1, y1, s.color)
        for x, y, p in sorted(pts, key=lambda t: not t[2].highlight):
            canvas.disc(x, y, 4, s.color)
            if p.highlight:
                canvas.disc(x, y, 11, GREEN, ring=True)
            if p.label:
                self._label(canvas, x, y, p, taken)

    def _label(self, canvas: Canvas, x: int, y: int, p: Point, taken: list[tuple[int, int, int, int]]) -> None:
        """Place a label beside its point where it overlaps no other; drop it if none is free."""
        w, h = text_width(p.label), GLYPH_H
        for dx, dy in ((8, -h - 6), (8, 6), (-w - 8, -h - 6), (-w - 8, 6), (8, -2 * h - 12), (8, h + 12)):
            box = (x + dx - 2, y + dy - 2, x + dx + w + 2, y + dy + h + 2)
            if all(box[2] < t[0] or box[0] > t[2] or box[3] < t[1] or box[1] > t[3] for t in taken):
                taken.append(box)
                canvas.text(x + dx, y + dy, p.label, GREEN if p.highlight else INK)
                return

    def _legend(self, canvas: Canvas) -> None:
        x = self.width - _RIGHT - sum(text_width(s.name) + 30 for s in self.series)
        for s in self.series:
            canvas.disc(x, 40, 4, s.color)
            x += canvas.text(x + 10, 37, s.name, INK) + 30


@dataclass(frozen=True)
class _Plot:
    width: int
    height: int
    x_ticks: list[float]
    y_ticks: list[float]
    log_y: bool = False

    def px(self, v: float) -> int:
        lo, hi = self.x_ticks[0], self.x_ticks[-1]
        return round(_LEFT + (v - lo) / ((hi - lo) or 1) * (self.width - _LEFT - _RIGHT))

    def py(self, v: float) -> int:
        lo, hi = self.y_ticks[0], self.y_ticks[-1]
        if self.log_y:
            v, lo, hi = (math.log10(max(x, 1e-12)) for x in (v, lo, hi))
        return round(self.height - _BOTTOM - (v - lo) / ((hi - lo) or 1) * (self.height - _TOP - _BOTTOM))


def _ticks(lo: float, hi: float, target: int = 6) -> list[float]:
    """Round tick values (1, 2 or 5 times a power of ten) covering [lo, hi]."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        lo, hi = 0.0, 1.0
    if hi <= lo:
        hi = lo + (abs(lo) or 1.0)
    raw = (hi - lo) / target
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    start = math.floor(lo / step) * step
    count = math.ceil((hi - start) / step - 1e-9)
    return [round(start + i * step, 12) for i in range(count + 1)]


def _log_ticks(lo: float, hi: float) -> list[float]:
    """Powers of ten covering [lo, hi] (both > 0)."""
    first = math.floor(math.log10(max(lo, 1e-12)))
    last = max(first + 1, math.ceil(math.log10(max(hi, 1e-12))))
    return [10.0**e for e in range(first, last + 1)]


def _fmt(v: float) -> str:
    if v == 0:
        return "0"
    if abs(v) >= 10_000:
        return f"{v / 1000:g}K"
    return f"{v:.4g}" if abs(v) >= 0.001 else f"{v:.2e}"
