"""The Recommend step's candidates as a chart (PNG), drawn from the step's `results.json`.

Drawn here, on the client, not in the step. The step runs in the stock SageMaker
scikit-learn processing image with boto3 and the standard library only; a chart drawn
there only when matplotlib happens to be importable would make the step's outputs differ
between the emulator (whose interpreter has it) and AWS (whose image may not). The
results document already carries every figure the chart shows, so `rtb-mlops recommend
--chart` and `rtb-mlops demo` draw the same chart from the same document.

Cost per inference against model latency, one point per candidate, numbered as the rows
of the table beneath; the SLA as a dashed line; the choice as a star.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from pipelines.charts.figure import new_figure, save_png, threshold
from pipelines.charts.placement import Labelled, place

PER_MILLION = 1_000_000
WITHIN, ABOVE, CHOSEN = "#2c6fbb", "#e67e22", "#1e8449"
CHOSEN_FILL = "#d5f5e3"
# Layout in inches: title, plot, axis labels, then one table line per candidate.
_WIDTH, _TITLE, _PLOT, _AXIS, _LINE, _BOTTOM = 10.0, 0.9, 4.0, 0.75, 0.27, 0.25
_LEFT, _LEGEND, _RIGHT = 0.9, 2.7, 0.3


@dataclass(frozen=True)
class Row:
    """One candidate as the chart shows it; `number` is None for one set aside (no point)."""

    number: int | None
    container: str
    instance_type: str
    environment: str
    latency_ms: float
    usd_per_million: float
    max_invocations_per_minute: int
    usd_per_hour: float
    within_sla: bool
    chosen: bool
    excluded_reason: str = ""


def rows(results: dict[str, Any]) -> list[Row]:
    """Candidates cheapest first, as `rtb-mlops recommend --table` lists them; those set aside last."""
    chosen_id = results["choice"]["recommendation_id"] if results["choice"]["chosen"] else None
    items = sorted(
        results["candidates"]["items"], key=lambda c: (bool(c["excluded_reason"]), c["cost_per_inference"] or 0)
    )
    numbers = itertools.count(1)
    out = []
    for c in items:
        valid = not c["excluded_reason"]
        out.append(
            Row(
                number=next(numbers) if valid else None,
                container=c.get("container") or "?",
                instance_type=c["instance_type"] or "?",
                environment=" ".join(f"{k}={v}" for k, v in sorted(c["environment"].items())) or "-",
                latency_ms=c["model_latency_ms"] or 0,
                usd_per_million=(c["cost_per_inference"] or 0) * PER_MILLION,
                max_invocations_per_minute=c["max_invocations_per_minute"] or 0,
                usd_per_hour=c["cost_per_hour"] or 0,
                within_sla=bool(c["meets_sla"]),
                chosen=valid and c["recommendation_id"] == chosen_id,
                excluded_reason=c["excluded_reason"],
            )
        )
    return out


def _subtitle(results: dict[str, Any]) -> str:
    if not results["choice"]["chosen"]:
        return f"no choice: {results['gate']['reason']}"
    c, p, i = results["choice"], results["plan"], results["inputs"]
    ratio = (results.get("containers") or {}).get("stock_cost_over_chosen")
    versus = f"; {ratio:.1f}× cheaper per inference than the stock container's best" if ratio else ""
    return (
        f"chosen: {c['container']} on {c['instance_type']} × {p['instance_count']} for {i['peak_rps']:,.0f}"
        f" requests/s at peak, {p['fleet_cost_per_hour']:,.2f} USD/h{versus};"
        f" gate {'passed' if results['gate']['passed'] else 'failed'}"
    )


def _scatter(ax: Axes, shown: list[Row], sla: float, percentile: str) -> None:
    # One marker shape per container (inference specification), one colour per side of the SLA.
    markers = dict(zip(sorted({r.container for r in shown}), "o^sDv", strict=False))
    for (container, marker), (within, color, name) in itertools.product(
        markers.items(), ((True, WITHIN, "within the SLA"), (False, ABOVE, "above the SLA"))
    ):
        group = [r for r in shown if r.within_sla == within and r.container == container]
        if not group:
            continue
        ax.scatter(
            [r.usd_per_million for r in group],
            [r.latency_ms for r in group],
            s=40,
            marker=marker,
            color=color,
            edgecolor="white",
            linewidth=0.8,
            label=f"{container}, {name} ({len(group)})",
            zorder=3,
        )
    for r in (r for r in shown if r.chosen):
        ax.scatter(
            [r.usd_per_million],
            [r.latency_ms],
            s=320,
            marker="*",
            color=CHOSEN,
            edgecolor="white",
            label=f"chosen: {r.container} on {r.instance_type}",
            zorder=4,
        )
    threshold(ax, sla, f"SLA: {percentile} ≤ {sla:g} ms")
    top = max([sla, *(r.latency_ms for r in shown)])
    right = max([r.usd_per_million for r in shown] or [1.0])
    # Room around the extremes so that their labels fit inside the axes.
    ax.set_xlim(0, right * 1.18)
    ax.set_ylim(0, top * 1.2)
    ax.set_xlabel("cost per million inferences (USD)")
    ax.set_ylabel(f"model latency, {percentile} (ms)")
    ax.grid(True, color="0.9", zorder=0)
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False, fontsize=9)
    place(
        ax,
        [Labelled(r.usd_per_million, r.latency_ms, str(r.number), 9.0 if r.chosen else 5.0) for r in shown],
    )


def _table(ax: Axes, all_rows: list[Row], sla: float) -> None:
    ax.axis("off")
    head = ["#", "container", "instance", "environment", "latency ms", "max inv/min", "USD/1M inf", "USD/h", "note"]
    cells = []
    for r in all_rows:
        if r.number is None:
            reason = f"set aside: {r.excluded_reason}"
            cells.append(["-", r.container, r.instance_type, r.environment, "", "", "", "", reason])
            continue
        note = "chosen" if r.chosen else "" if r.within_sla else f"above the {sla:g} ms SLA"
        cells.append(
            [
                str(r.number),
                r.container,
                r.instance_type,
                r.environment,
                f"{r.latency_ms:g}",
                f"{r.max_invocations_per_minute:,}",
                f"{r.usd_per_million:.4f}",
                f"{r.usd_per_hour:.3f}",
                note,
            ]
        )
    table = ax.table(
        cellText=cells,
        colLabels=head,
        cellLoc="left",
        loc="upper left",
        bbox=[0, 0, 1, 1],
        edges="horizontal",
    )
    table.auto_set_font_size(False)
    table.set_fontsize(9)
    # Columns as wide as their widest text (bold rows included), then stretched to the box.
    table.auto_set_column_width(list(range(len(head))))
    for col in range(len(head)):
        table[0, col].set_text_props(fontweight="bold")
        for line, r in enumerate(all_rows, start=1):
            if r.chosen:
                table[line, col].set_facecolor(CHOSEN_FILL)
                table[line, col].set_text_props(fontweight="bold", color=CHOSEN)


def candidates_figure(results: dict[str, Any]) -> Figure:
    all_rows = rows(results)
    shown = [r for r in all_rows if r.number is not None]
    sla, percentile = results["inputs"]["max_latency_ms"], results["inputs"]["latency_percentile"]
    table_in = _LINE * (len(all_rows) + 1)
    height = _TITLE + _PLOT + _AXIS + table_in + _BOTTOM
    fig = new_figure(_WIDTH, height)
    job = results["job"]["name"] or "Inference Recommender job"
    fig.text(_LEFT / _WIDTH, 1 - 0.38 / height, f"Inference Recommender candidates: {job}", fontsize=14, va="bottom")
    fig.text(_LEFT / _WIDTH, 1 - 0.66 / height, _subtitle(results), fontsize=10, color="0.3", va="bottom")
    plot_width = (_WIDTH - _LEFT - _LEGEND) / _WIDTH
    ax = fig.add_axes((_LEFT / _WIDTH, (_BOTTOM + table_in + _AXIS) / height, plot_width, _PLOT / height))
    _scatter(ax, shown, sla, percentile)
    table_width = (_WIDTH - _LEFT - _RIGHT) / _WIDTH
    _table(fig.add_axes((_LEFT / _WIDTH, _BOTTOM / height, table_width, table_in / height)), all_rows, sla)
    return fig


def write_candidates_chart(results: dict[str, Any], path: Path) -> None:
    save_png(candidates_figure(results), path)
