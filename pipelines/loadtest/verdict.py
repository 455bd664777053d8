"""The load test's verdict: did the fleet scale out, hold the latency SLA and answer?

It fails when p99 model latency stays above the SLA for longer than the grace period, when
the error rate exceeds its threshold, or when the load rose above what the starting fleet
holds at its target and the fleet did not scale out. Each check gives one reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.loadtest.timeline import Point


@dataclass(frozen=True)
class Criteria:
    sla_ms: float
    grace_seconds: float
    max_error_rate: float


@dataclass(frozen=True)
class Verdict:
    passed: bool
    reasons: list[str]


def longest_breach(points: list[Point], sla_ms: float) -> tuple[float, float]:
    """(seconds, worst ms) of the longest run of points whose model-latency p99 exceeds the SLA."""
    longest = worst = 0.0
    run_start: float | None = None
    for p in points:
        latency = p.model_latency_p99_ms
        if latency is None or latency <= sla_ms:
            run_start = None
            continue
        worst = max(worst, latency)
        run_start = p.t_seconds if run_start is None else run_start
        longest = max(longest, p.t_seconds - run_start + 1)
    return longest, worst


@dataclass(frozen=True)
class Outcome:
    """What the verdict judges: the timeline, request totals, and the fleet's scaling."""

    points: list[Point]
    requests: int
    errors: int
    scale_out_expected: bool
    scale_out_seconds: float | None


def judge(outcome: Outcome, criteria: Criteria) -> Verdict:
    points, scale_out_seconds = outcome.points, outcome.scale_out_seconds
    reasons: list[str] = []
    failed = False
    breach, worst = longest_breach(points, criteria.sla_ms)
    if breach > criteria.grace_seconds:
        failed = True
        reasons.append(
            f"FAIL latency: p99 model latency above the {criteria.sla_ms:g} ms SLA for {breach:.0f} s"
            f" (grace {criteria.grace_seconds:g} s), worst {worst:.1f} ms"
            + (
                "; the fleet never scaled out: is the per-instance target above what an instance holds?"
                if scale_out_seconds is None
                else ""
            )
        )
    else:
        reasons.append(
            f"PASS latency: p99 model latency above the {criteria.sla_ms:g} ms SLA for {breach:.0f} s at most"
            f" (grace {criteria.grace_seconds:g} s)"
        )
    requests, errors = outcome.requests, outcome.errors
    rate = errors / requests if requests else 1.0
    if not requests or rate > criteria.max_error_rate:
        failed = True
        reasons.append(
            f"FAIL errors: {errors} of {requests} requests failed ({rate:.2%}, at most {criteria.max_error_rate:.2%})"
        )
    else:
        reasons.append(f"PASS errors: {errors} of {requests} requests failed ({rate:.2%})")
    if outcome.scale_out_expected and scale_out_seconds is None:
        failed = True
        reasons.append(
            "FAIL scaling: the load rose above what the starting fleet holds at its target; it did not scale out"
        )
    elif outcome.scale_out_expected:
        reasons.append(f"PASS scaling: new capacity serving {scale_out_seconds:.0f} s after the load step")
    else:
        reasons.append("PASS scaling: the load stayed within the starting fleet's target; no scale-out was needed")
    return Verdict(not failed, reasons)
