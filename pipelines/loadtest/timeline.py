"""The load test's timeline: one point a second, from the client's per-second results, the
CloudWatch datapoint covering that second, and the instance count then serving."""

from __future__ import annotations

import itertools
from bisect import bisect_right
from dataclasses import dataclass

from pipelines.loadtest.client_seconds import Second
from pipelines.loadtest.observe import InstanceSample


@dataclass(frozen=True)
class Point:
    t_seconds: float
    rps: float
    p50_ms: float | None
    p99_ms: float | None
    model_latency_p99_ms: float | None
    errors: int
    instances: int
    desired_instances: int
    # CloudWatch's instance metrics (Average over the fleet): CPU is 0-100% x the vCPUs.
    cpu_utilization: float | None = None
    memory_utilization: float | None = None


@dataclass(frozen=True)
class ScaleEvent:
    t_seconds: float
    from_count: int
    to_count: int

    def as_json(self) -> dict:
        return {"t_seconds": self.t_seconds, "from": self.from_count, "to": self.to_count}


def value_at(series: dict[float, float], at: float) -> float | None:
    """The datapoint whose period covers `at`: the newest one that began at or before it."""
    times = sorted(series)
    i = bisect_right(times, at)
    return series[times[i - 1]] if i else None


def sample_at(samples: list[InstanceSample], at: float) -> InstanceSample | None:
    i = bisect_right([s.at for s in samples], at)
    return samples[i - 1] if i else (samples[0] if samples else None)


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def build(
    started: float, client: dict[int, Second], series: dict[str, dict[float, float]], samples: list[InstanceSample]
) -> list[Point]:
    """One point per second from the first second with a request to the last; `series` are the
    CloudWatch datapoints by query id (`observe.METRICS`)."""
    points = []
    seconds = range(min(client), max(client) + 1) if client else range(0)
    for second in seconds:
        c = client.get(second, Second())
        at = second + 0.5
        s = sample_at(samples, at)
        latency = value_at(series.get("model_p99", {}), at)
        points.append(
            Point(
                t_seconds=float(second - int(started)),
                rps=float(c.requests),
                p50_ms=c.percentile(50),
                p99_ms=c.percentile(99),
                model_latency_p99_ms=None if latency is None else round(latency / 1000, 3),
                errors=c.failures,
                instances=s.current if s else 0,
                desired_instances=s.desired if s else 0,
                cpu_utilization=_rounded(value_at(series.get("cpu", {}), at)),
                memory_utilization=_rounded(value_at(series.get("memory", {}), at)),
            )
        )
    return points


def scale_events(started: float, samples: list[InstanceSample]) -> list[ScaleEvent]:
    """Each change of the instance count serving (CurrentInstanceCount)."""
    events = []
    for before, after in itertools.pairwise(samples):
        if after.current != before.current:
            events.append(ScaleEvent(round(after.at - started, 1), before.current, after.current))
    return events


def scale_out_seconds(started: float, step_at: float, samples: list[InstanceSample]) -> float | None:
    """Seconds from the load step to the first increase of the count serving, or None."""
    before = sample_at(samples, started + step_at)
    if before is None:
        return None
    for s in samples:
        if s.at >= started + step_at and s.current > before.current:
            return round(s.at - started - step_at, 1)
    return None
