"""A load test's chart (PNG), drawn from its `report.json`: request rate, p99 latency, the
instance count and the instances' CPU and memory utilization on one shared time axis, the
profile's phases shaded, scale events marked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from matplotlib.axes import Axes

from pipelines.charts.figure import new_figure, save_png, threshold

RATE, CLIENT, MODEL, DESIRED, CURRENT = "#2c6fbb", "#7f8c8d", "#e67e22", "#95a5a6", "#1e8449"
CPU, MEMORY = "#8e44ad", "#16a085"
PASS, FAIL = "#1e8449", "#c0392b"
_WIDTH, _HEIGHT = 10.0, 9.5


def _phases(ax: Axes, report: dict[str, Any]) -> None:
    start = 0.0
    for i, phase in enumerate(report["profile"]["phases"]):
        if i % 2:
            ax.axvspan(start, start + phase["seconds"], color="0.95", zorder=0)
        start += phase["seconds"]


def _events(ax: Axes, report: dict[str, Any]) -> None:
    for e in report["scale_events"]:
        ax.axvline(e["t_seconds"], color=CURRENT, linestyle=":", linewidth=1, zorder=1)


def _series(points: list[dict], key: str) -> tuple[list[float], list[float]]:
    shown = [p for p in points if p.get(key) is not None]
    return [p["t_seconds"] for p in shown], [p[key] for p in shown]


def _utilization(ax: Axes, points: list[dict]) -> None:
    """CloudWatch's CPUUtilization (sum over an instance's cores) and MemoryUtilization, the
    fleet's average instance; reports written before they were read have neither."""
    ax.plot(*_series(points, "cpu_utilization"), color=CPU, label="CPUUtilization (sum over vCPUs)")
    ax.plot(*_series(points, "memory_utilization"), color=MEMORY, label="MemoryUtilization")
    ax.set_ylabel("% per instance")
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper right", frameon=False, fontsize=9)


def write_loadtest_chart(report: dict[str, Any], path: Path) -> None:
    points = report["timeline"]
    fig = new_figure(_WIDTH, _HEIGHT)
    rate_ax, latency_ax, count_ax, usage_ax = fig.subplots(
        4, 1, sharex=True, gridspec_kw={"height_ratios": [3, 3, 2, 2]}
    )
    verdict = report["verdict"]
    target = report["endpoint"]
    fig.suptitle(
        f"Load test of {target['endpoint']}: {report['profile']['name']} profile —"
        f" {'passed' if verdict['passed'] else 'FAILED'}",
        x=0.08, ha="left", fontsize=14, color=PASS if verdict["passed"] else FAIL,
    )  # fmt: skip
    notes = [f"target {target['target_invocations_per_instance']:,.0f} invocations/instance/min"]
    if report["scale_out_seconds"] is not None:
        notes.append(f"scale-out {report['scale_out_seconds']:g} s after the step")
    env = report.get("environment") or {}
    if env:
        notes.append(
            f"emulator: clock ×{env['time_scale']:g}; fleet modelled 1:{env['traffic_scale']:g}"
            f" (each request sent stands for {env['traffic_scale']:g});"
            f" at most {env['max_local_instances']} local servers"
            + (f" of {env['local_instance_vcpus']} vCPUs each" if "local_instance_vcpus" in env else "")
        )
    fig.text(0.08, 0.915, "\n".join(["; ".join(notes[:2]), *notes[2:]]), fontsize=9, color="0.3", va="bottom")
    for ax in (rate_ax, latency_ax, count_ax, usage_ax):
        _phases(ax, report)
        _events(ax, report)
        ax.grid(True, color="0.9", zorder=0)
    rate_ax.plot(*_series(points, "rps"), color=RATE, label="requests/s sent (client)")
    rate_ax.set_ylabel("requests/s")
    rate_ax.set_ylim(bottom=0)
    rate_ax.legend(loc="upper right", frameon=False, fontsize=9)
    latency_ax.plot(*_series(points, "p99_ms"), color=CLIENT, label="p99, client (Locust)")
    latency_ax.plot(*_series(points, "model_latency_p99_ms"), color=MODEL, label="p99 ModelLatency (CloudWatch)")
    threshold(latency_ax, report["criteria"]["sla_ms"], f"SLA {report['criteria']['sla_ms']:g} ms")
    latency_ax.set_ylabel("latency (ms)")
    latency_ax.set_ylim(bottom=0)
    latency_ax.legend(loc="upper right", frameon=False, fontsize=9)
    count_ax.step(*_series(points, "desired_instances"), where="post", color=DESIRED, label="desired instances")
    count_ax.step(*_series(points, "instances"), where="post", color=CURRENT, linewidth=2, label="instances in service")
    count_ax.set_ylabel("instances")
    count_ax.set_ylim(bottom=0)
    count_ax.yaxis.get_major_locator().set_params(integer=True)
    count_ax.legend(loc="upper right", frameon=False, fontsize=9)
    _utilization(usage_ax, points)
    usage_ax.set_xlabel("seconds since the start (shaded: alternate profile phases; dotted: scale events)")
    fig.subplots_adjust(left=0.08, right=0.97, top=0.9, bottom=0.07, hspace=0.12)
    save_png(fig, path)
