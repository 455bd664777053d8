"""Endpoint metrics as SageMaker publishes them, from the invocations the emulator serves.

Namespace `AWS/SageMaker`, dimensions `EndpointName` and `VariantName`. `ModelLatency` and
`OverheadLatency` are in microseconds, as SageMaker reports them; `Invocation4XXErrors` and
`Invocation5XXErrors` count the model container's 4xx/5xx answers; `InvocationsPerInstance`
divides each invocation by the instances serving when it arrived.

Periods follow the compressed clock (`emulator.clock`): a 60 s period lasts 60/scale real
seconds, and sums are scaled back to a full period, so rates keep their real meaning.

One machine cannot send what a planned fleet serves (tens of thousands of requests a second).
`RTB_MLOPS_EMULATOR_TRAFFIC_SCALE` (default 1) makes the emulator a 1:N model of the fleet:
each invocation counts N times in the sums (invocations and errors alike); latencies are
the real ones. `rtb-mlops loadtest` reads the setting and sends 1/N of each planned rate.
"""

from __future__ import annotations

import math
import os
import threading
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar

from emulator.clock import Clock

NAMESPACE = "AWS/SageMaker"
# What a load test can make in the emulator's lifetime is bounded; keep the newest records.
_MAX_RECORDS = 2_000_000
_COUNTS = {"Invocations", "InvocationsPerInstance", "Invocation4XXErrors", "Invocation5XXErrors"}
LATENCIES = {"ModelLatency", "OverheadLatency"}
METRICS = _COUNTS | LATENCIES
TRAFFIC_SCALE_SETTING = "RTB_MLOPS_EMULATOR_TRAFFIC_SCALE"
R = TypeVar("R")


def traffic_scale() -> float:
    raw = os.environ.get(TRAFFIC_SCALE_SETTING, "1")
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if value < 1:
        raise ValueError(f"{TRAFFIC_SCALE_SETTING}={raw!r}: expected a number >= 1")
    return value


@dataclass(frozen=True)
class Invocation:
    at: float  # epoch seconds
    endpoint: str
    variant: str
    model_us: float
    overhead_us: float
    status: int  # the model container's HTTP status
    instances: int


@dataclass(frozen=True)
class Datapoint:
    timestamp: datetime
    value: float
    unit: str


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile, as CloudWatch's pNN of raw samples."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def aggregate(values: list[float], stat: str, per_period: float = 1.0) -> float:
    """One period's statistic of its raw values; sums and sample counts times `per_period`."""
    if stat.startswith("p"):
        return percentile(values, float(stat[1:]))
    table = {
        "Sum": lambda: sum(values) * per_period,
        "SampleCount": lambda: len(values) * per_period,
        "Average": lambda: sum(values) / len(values),
        "Minimum": lambda: min(values),
        "Maximum": lambda: max(values),
    }
    if stat not in table:
        raise ValueError(f"statistic {stat!r}: expected Sum, SampleCount, Average, Minimum, Maximum or pNN")
    return table[stat]()


def statistic(metric: str, records: list[Invocation], stat: str, scale: float) -> float | None:
    """One period's statistic, or None when the period has no data (CloudWatch omits it);
    sums and sample counts of counted metrics are multiplied by `scale`."""
    if not records:
        return None
    if metric in LATENCIES:
        values = [r.model_us if metric == "ModelLatency" else r.overhead_us for r in records]
    elif metric == "Invocations":
        values = [1.0] * len(records)
    elif metric == "InvocationsPerInstance":
        values = [1.0 / max(1, r.instances) for r in records]
    else:
        low = 400 if metric == "Invocation4XXErrors" else 500
        values = [1.0 if low <= r.status < low + 100 else 0.0 for r in records]
    return aggregate(values, stat, scale if metric in _COUNTS else 1.0)


class PeriodStore(Generic[R]):
    """Records of one namespace (each with `at`, `endpoint`, `variant`), queried per
    (compressed) period; a subclass says which metrics it holds and how a period's records
    make a statistic."""

    metrics: frozenset[str] = frozenset()

    def __init__(self, clock: Clock):
        self.clock = clock
        self._records: deque[R] = deque(maxlen=_MAX_RECORDS)
        self._lock = threading.Lock()

    def record(self, item: R) -> None:
        with self._lock:
            self._records.append(item)

    def statistic(self, metric: str, records: list[R], stat: str) -> float | None:
        raise NotImplementedError

    @staticmethod
    def unit(metric: str) -> str:
        return "None"

    def _select(self, endpoint: str, variant: str | None, start: float, end: float) -> list[R]:
        with self._lock:
            return [
                r
                for r in self._records
                if start <= r.at < end and r.endpoint == endpoint and (variant is None or r.variant == variant)
            ]

    def series(
        self, metric: str, dimensions: dict[str, str], stat: str, period: int, start: float, end: float
    ) -> list[Datapoint]:
        """Datapoints of complete and current periods between start and end (epoch seconds)."""
        endpoint = dimensions.get("EndpointName")
        if metric not in self.metrics or endpoint is None:
            return []
        span = self.clock.real(period)
        records = self._select(endpoint, dimensions.get("VariantName"), start, end)
        buckets: dict[int, list[R]] = {}
        for r in records:
            buckets.setdefault(int(r.at // span), []).append(r)
        points = []
        for index in sorted(buckets):
            value = self.statistic(metric, buckets[index], stat)
            if value is not None:
                points.append(Datapoint(datetime.fromtimestamp(index * span, UTC), value, self.unit(metric)))
        return points

    def last_periods(
        self, metric: str, dimensions: dict[str, str], stat: str, period: int, count: int, now: float
    ) -> list[float | None]:
        """The statistic of the `count` complete periods before now, oldest first; None where missing."""
        span = self.clock.real(period)
        current = int(now // span)
        first = current - count
        endpoint, variant = dimensions.get("EndpointName", ""), dimensions.get("VariantName")
        records = self._select(endpoint, variant, first * span, current * span)
        buckets: dict[int, list[R]] = {i: [] for i in range(first, current)}
        for r in records:
            buckets[int(r.at // span)].append(r)
        return [self.statistic(metric, buckets[i], stat) for i in range(first, current)]


class MetricStore(PeriodStore[Invocation]):
    """Every invocation the emulator served (namespace `AWS/SageMaker`)."""

    metrics = frozenset(METRICS)

    def __init__(self, clock: Clock, traffic: float = 1.0):
        super().__init__(clock)
        # Each invocation stands for `traffic` of the modelled fleet's, in every count.
        self.count_scale = clock.scale * traffic

    def statistic(self, metric: str, records: list[Invocation], stat: str) -> float | None:
        return statistic(metric, records, stat, self.count_scale)

    @staticmethod
    def unit(metric: str) -> str:
        return "Microseconds" if metric in LATENCIES else "None"
