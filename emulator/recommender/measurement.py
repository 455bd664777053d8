"""What an Inference Recommender job learns on this machine, and what it says of other ones.

Measurement: the model server (one worker: one vCPU's worth) load-tested on 127.0.0.1 over a
few concurrency levels, bounded in time; the level reported is the busiest one within the
latency SLA without errors. Projection, to an instance type this machine is not:

    max invocations/min = measured req/s per worker x vCPUs x efficiency x 60
    model latency       = measured latency percentile at that load (ms, rounded up)
    cost                = approximate list price per hour; per inference = hour / invocations
"""

from __future__ import annotations

import logging
import math
import os
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from emulator import loadtest, prices
from emulator.model_servers import ModelServer

log = logging.getLogger("rtb_mlops.emulator")
# Scaling from one worker to one per vCPU is not free; a conservative allowance.
EFFICIENCY = 0.8
CONCURRENCY = (1, 2, 4, 8)
PROJECTION = f"max invocations/min = measured req/s per worker x vCPUs x {EFFICIENCY} x 60"


def _load_seconds() -> float:
    """Total load-test time per environment (default 12 s); tests shorten it."""
    return float(os.environ.get("RTB_MLOPS_EMULATOR_LOADTEST_SECONDS", "12"))


@dataclass(frozen=True)
class Served:
    """What is measured: the model, the server that stands in for the specification's image
    (emulator.model_servers.SERVING or STOCK_XGBOOST), and the specification's name ("": primary)."""

    artifact: Path
    server: str
    inference_specification: str = ""


@dataclass
class Measurement:
    environment: dict[str, str]
    levels: list[dict[str, Any]]
    chosen: dict[str, Any]
    percentile: str
    tool: str
    inference_specification: str = ""
    server: str = ""

    def endpoint_metrics(self) -> dict[str, int]:
        """The API's EndpointMetrics/EndpointPerformances figures for the level chosen."""
        return {
            "MaxInvocations": int(self.chosen["rps"] * 60),
            "ModelLatency": math.ceil(self.chosen[self.percentile]),
        }


@dataclass(frozen=True)
class Projection:
    """A measurement carried over to one instance type: the recommendation's Metrics."""

    cost_per_hour: float
    cost_per_inference: float
    max_invocations: int
    model_latency: int

    def metrics(self) -> dict[str, float | int]:
        return {
            "CostPerHour": self.cost_per_hour,
            "CostPerInference": self.cost_per_inference,
            "MaxInvocations": self.max_invocations,
            "ModelLatency": self.model_latency,
        }


def measure(
    served: Served, env: dict[str, str], bodies: list[bytes], percentile: str, sla_ms: float, stop: threading.Event
) -> Measurement:
    """Load-tests the model served with `env`; stops early (with the levels done) when `stop` is set."""
    server = ModelServer(served.artifact, env, workers=1, kind=served.server)
    server.start()
    try:
        per_level = _load_seconds() / len(CONCURRENCY)
        levels = []
        for c in CONCURRENCY:
            if stop.is_set():
                break
            r = loadtest.run(server.url, bodies, c, per_level)
            levels.append(
                {
                    "connections": c,
                    "seconds": round(r.seconds, 2),
                    "requests": r.requests,
                    "errors": r.errors,
                    "rps": round(r.rps, 1),
                    "P50": r.p50_ms,
                    "P95": r.p95_ms,
                    "P99": r.p99_ms,
                    "tool": r.tool,
                }
            )
            log.info(
                "load test %s %s c=%d: %.0f req/s, p50 %.2f ms, p99 %.2f ms (%s)",
                served.server,
                env or "{}",
                c,
                r.rps,
                r.p50_ms,
                r.p99_ms,
                r.tool,
            )
    finally:
        server.stop()
    ok = [lv for lv in levels if lv[percentile] <= sla_ms and lv["errors"] == 0]
    chosen = max(ok, key=lambda lv: lv["rps"]) if ok else min(levels, key=lambda lv: lv[percentile])
    tool = levels[0]["tool"] if levels else ""
    return Measurement(env, levels, chosen, percentile, tool, served.inference_specification, served.server)


def project(m: Measurement, instance_type: str) -> Projection:
    """Raises prices.UnknownInstanceType for a type the price list does not know."""
    vcpus, hourly = prices.vcpus(instance_type), prices.hourly_usd(instance_type)
    per_minute = max(1, int(m.chosen["rps"] * vcpus * EFFICIENCY * 60))
    return Projection(
        cost_per_hour=hourly,
        cost_per_inference=hourly / (per_minute * 60),
        max_invocations=per_minute,
        model_latency=max(1, math.ceil(m.chosen[m.percentile])),
    )


def report(job_name: str, measured: list[Measurement]) -> dict[str, Any]:
    """The measurements JSON the job writes beside the sample payload."""
    return {
        "job": job_name,
        "machine": {"cpus": os.cpu_count()},
        "note": "MaxInvocations and ModelLatency of other instance types are projections of these measurements",
        "projection": PROJECTION,
        "measurements": [asdict(m) for m in measured],
    }
