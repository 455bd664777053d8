"""The client side of the timeline: requests, failures and latencies per wall-clock second.

Locust's own history is a sliding window (its rate lags a step by seconds); this keeps exact
per-second counts and a millisecond histogram per second, which workers of a distributed run
send to their master with their regular reports, so the master holds every worker's seconds.
Standard library only: it is imported inside the Locust process.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Second:
    requests: int = 0
    failures: int = 0
    # Latency histogram: whole milliseconds (sub-millisecond answers count as 1) -> requests.
    latency_ms: Counter = field(default_factory=Counter)

    def add(self, latency_ms: float, failed: bool) -> None:
        self.requests += 1
        self.failures += failed
        self.latency_ms[max(1, math.ceil(latency_ms))] += 1

    def merge(self, other: dict) -> None:
        self.requests += other["requests"]
        self.failures += other["failures"]
        self.latency_ms.update({int(k): v for k, v in other["latency_ms"].items()})

    def as_json(self) -> dict:
        return {
            "requests": self.requests,
            "failures": self.failures,
            "latency_ms": {str(k): v for k, v in self.latency_ms.items()},
        }

    def percentile(self, p: float) -> float | None:
        """Nearest-rank percentile from the histogram (None for a second without requests)."""
        total = sum(self.latency_ms.values())
        if not total:
            return None
        rank, seen = math.ceil(p / 100 * total), 0
        for ms in sorted(self.latency_ms):
            seen += self.latency_ms[ms]
            if seen >= rank:
                return float(ms)
        return float(max(self.latency_ms))


class Seconds:
    def __init__(self) -> None:
        self.by_second: dict[int, Second] = {}

    def add(self, at: float, latency_ms: float, failed: bool) -> None:
        self.by_second.setdefault(int(at), Second()).add(latency_ms, failed)

    def drain(self) -> dict[str, dict]:
        """What a worker sends its master (and forgets)."""
        out = {str(k): v.as_json() for k, v in self.by_second.items()}
        self.by_second = {}
        return out

    def merge(self, report: dict[str, dict]) -> None:
        for second, data in report.items():
            self.by_second.setdefault(int(second), Second()).merge(data)

    def write(self, path: Path) -> None:
        path.write_text(json.dumps({str(k): v.as_json() for k, v in sorted(self.by_second.items())}))


def read(path: Path) -> dict[int, Second]:
    out = {}
    for second, data in json.loads(path.read_text()).items():
        s = Second()
        s.merge(data)
        out[int(second)] = s
    return out
