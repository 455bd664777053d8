"""The serving benchmark's chart: requests/s against p99 latency, one curve per server and
worker count, drawn from a table of figures rather than from a run.

`bench.serving` draws it at the end of a run; this module redraws it from a saved JSON
without running anything: the raw `build/bench/serving.json` a run writes, or
`docs/serving-throughput-p99.json` (the README's performance table, from which
docs/serving-throughput-p99.png is drawn).

    .venv/bin/python -m bench.serving_chart FIGURES.json [--out PNG]
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from pipelines.charts.figure import new_figure, save_png, threshold

REPO = Path(__file__).resolve().parent.parent
P99_BAR_MS = 3.0
# Ours in greens and blues, the reference in orange and grey, as the README's table reads.
_STYLE = {
    ("ours", 2): ("#1e8449", "o"),
    ("ours", 1): ("#2c6fbb", "o"),
    ("reference", 2): ("#e67e22", "s"),
    ("reference", 1): ("#7f8c8d", "s"),
}


@dataclass(frozen=True)
class LoadPoint:
    """One load run's figures; `connections` is None where only a configuration's best is known."""

    server: str
    workers: int
    rps: float
    p99_ms: float
    connections: int | None = None


def read_points(doc: dict[str, Any]) -> list[LoadPoint]:
    """The runs of a figures JSON: bench.serving's own, or a hand-made table with the same keys."""
    return [
        LoadPoint(r["server"], int(r["workers"]), float(r["rps"]), float(r["p99_ms"]), r.get("connections"))
        for r in doc["runs"]
    ]


def best_of_rounds(points: list[LoadPoint]) -> list[LoadPoint]:
    """One point per configuration and connection count: the round with the most requests/s.
    Points without a connection count are a table's figures, kept as they are."""
    best: dict[tuple[str, int, int], LoadPoint] = {}
    kept = []
    for p in points:
        if p.connections is None:
            kept.append(p)
            continue
        key = (p.server, p.workers, p.connections)
        if key not in best or p.rps > best[key].rps:
            best[key] = p
    return kept + list(best.values())


def _ms(value: float) -> str:
    return f"{value:.2f} ms" if value < 10 else f"{value:,.0f} ms"


def figure(points: list[LoadPoint], note: str = "") -> Figure:
    fig = new_figure(10.0, 6.4)
    ax = fig.add_axes((0.09, 0.3, 0.88, 0.61))
    fig.text(0.09, 0.95, "Model server: requests/s against p99 latency", fontsize=14, va="top")
    for (server, workers), (color, marker) in _STYLE.items():
        curve = sorted((p for p in points if (p.server, p.workers) == (server, workers)), key=lambda p: p.rps)
        if not curve:
            continue
        top = curve[-1]
        ax.plot(
            [p.rps for p in curve],
            [p.p99_ms for p in curve],
            color=color,
            marker=marker,
            markersize=7,
            linewidth=1.5,
            label=f"{server}, {workers} worker{'s' * (workers > 1)}: best {top.rps:,.0f} req/s at p99 {_ms(top.p99_ms)}",
            zorder=3,
        )
    threshold(ax, P99_BAR_MS, f"p99 ≤ {P99_BAR_MS:g} ms, the bar in the README's table")
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.set_xlim(0, max(p.rps for p in points) * 1.08)
    ax.set_xlabel("requests per second")
    ax.set_ylabel("p99 latency (ms, log scale)")
    ax.grid(True, which="major", color="0.9", zorder=0)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncols=2, frameon=False, fontsize=9)
    if note:
        fig.text(0.09, 0.015, note, fontsize=8, color="0.35", va="bottom", wrap=True)
    return fig


def write(points: list[LoadPoint], path: Path, note: str = "") -> None:
    save_png(figure(points, note), path)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("figures", type=Path, help="a JSON with a list of runs (server, workers, rps, p99_ms)")
    p.add_argument("--out", type=Path, default=REPO / "docs" / "serving-throughput-p99.png")
    args = p.parse_args(argv)
    doc = json.loads(args.figures.read_text())
    write(best_of_rounds(read_points(doc)), args.out, doc.get("source", ""))
    print(f"chart: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
