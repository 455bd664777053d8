"""`results.json`: the Recommend step's evidence, and the approval gate's PropertyFile.

The gate reads fixed paths with JsonGet, so every path exists in every outcome: when no
candidate qualifies, `choice` and `plan` hold zeros and `candidates.within_sla` is 0,
which fails the gate's first condition whatever the other figures say.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Any

from steps import containers
from steps.decision import Decision

SCHEMA = "rtb-mlops/recommend-results/v1"

_EMPTY_CHOICE = {
    "chosen": False,
    "recommendation_id": "",
    "inference_specification_name": "",
    "container": "",
    "instance_type": "",
    "environment": {},
    "model_latency_ms": 0,
    "max_invocations_per_minute": 0,
    "cost_per_inference": 0,
    "cost_per_hour": 0,
}
_EMPTY_PLAN = {
    "instance_count": 0,
    "target_invocations_per_instance": 0,
    "fleet_cost_per_hour": 0,
    "min_instance_count": 0,
    "max_instance_count": 0,
    "peak_invocations_per_minute": 0,
}


def _finite(obj: Any) -> Any:
    """JSON has no infinities or NaN; an unset limit is null."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_finite(v) for v in obj]
    return obj


def document(decision: Decision, job: dict[str, Any], scaling: dict[str, Any] | None = None) -> dict[str, Any]:
    return _finite(_document(decision, job, scaling))


def _document(decision: Decision, job: dict[str, Any], scaling: dict[str, Any] | None) -> dict[str, Any]:
    i = decision.inputs
    c = decision.choice
    choice = _EMPTY_CHOICE
    if c is not None:
        choice = {
            "chosen": True,
            **{k: v for k, v in c.to_dict(i.max_latency_ms).items() if k in _EMPTY_CHOICE},
        }
    return {
        "schema": SCHEMA,
        "job": {
            "name": job.get("JobName", ""),
            "type": job.get("JobType", ""),
            "status": job.get("Status", ""),
            "model_package_arn": (job.get("InputConfig") or {}).get("ModelPackageVersionArn", ""),
            "description": job.get("JobDescription", ""),
        },
        "inputs": i.to_dict(),
        "candidates": {
            "total": len(decision.candidates),
            "valid": sum(x.valid for x in decision.candidates),
            "within_sla": sum(x.meets_sla(i.max_latency_ms) for x in decision.candidates),
            "items": [x.to_dict(i.max_latency_ms) for x in decision.candidates],
        },
        "choice": choice,
        "containers": containers.document(decision),
        "plan": asdict(decision.plan) if decision.plan else _EMPTY_PLAN,
        "scaling_recommendation": scaling or {},
        # Benchmarks of existing endpoints, or (on the emulator) the measurement on this machine.
        "endpoint_performances": job.get("EndpointPerformances") or [],
        "gate": {
            "passed": decision.passed,
            # The pipeline's gate condition holds this to 0, so every check counts (the quota's too).
            "failed_checks": sum(not x.passed for x in decision.checks),
            "checks": [asdict(x) for x in decision.checks],
            "failure_reason": "" if decision.passed else decision.reason,
            "reason": decision.reason,
        },
    }
