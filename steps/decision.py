"""From an Inference Recommender job to a deployment decision: choice, capacity plan, gate.

The same code serves the pipeline's Recommend step and `rtb-mlops recommend --job-json`.

Selection: among valid recommendations whose ModelLatency (ms) is within the SLA, over every
(container, instance type, environment), the lowest CostPerInference; ties go to the higher
MaxInvocations, then the recommendation id. A container (inference specification) the parity
gate dropped has all its candidates set aside with the gate's reason.

Capacity, for peak R requests/s and safety factor s (0 < s <= 1), per instance type:
    instance_count = max(min_instances, ceil(R * 60 / (MaxInvocations * s)))
    target_invocations_per_instance = floor(MaxInvocations * s)      (per minute)
    fleet_cost_per_hour = instance_count * CostPerHour
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

from model_registry.errors import UserError
from steps.candidates import Candidate, drop_specification, from_job


@dataclass(frozen=True)
class DecisionInputs:
    max_latency_ms: float
    peak_rps: float
    safety_factor: float
    min_instances: int = 1
    max_instances: int = 1000
    max_cost_per_inference: float = math.inf
    max_fleet_cost_per_hour: float = math.inf
    latency_percentile: str = "P99"

    def __post_init__(self) -> None:
        checks = {
            "max_latency_ms": self.max_latency_ms > 0,
            "peak_rps": self.peak_rps > 0,
            "safety_factor": 0 < self.safety_factor <= 1,
            "min_instances": self.min_instances >= 1,
            "max_instances": self.max_instances >= self.min_instances,
            "max_cost_per_inference": self.max_cost_per_inference > 0,
            "max_fleet_cost_per_hour": self.max_fleet_cost_per_hour > 0,
        }
        expected = {
            "max_latency_ms": "> 0",
            "peak_rps": "> 0 requests per second",
            "safety_factor": "in (0, 1]",
            "min_instances": ">= 1",
            "max_instances": ">= min_instances",
            "max_cost_per_inference": "> 0",
            "max_fleet_cost_per_hour": "> 0",
        }
        for name, ok in checks.items():
            value = getattr(self, name)
            if not ok or (isinstance(value, float) and math.isnan(value)):
                raise UserError(f"{name} must be {expected[name]}, got {value}")

    def to_dict(self) -> dict[str, Any]:
        return {k: (None if isinstance(v, float) and math.isinf(v) else v) for k, v in vars(self).items()}


@dataclass(frozen=True)
class Plan:
    instance_count: int
    target_invocations_per_instance: int
    fleet_cost_per_hour: float
    min_instance_count: int
    max_instance_count: int
    peak_invocations_per_minute: float


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    value: float
    limit: float
    failure: str


@dataclass(frozen=True)
class Decision:
    inputs: DecisionInputs
    candidates: list[Candidate]
    choice: Candidate | None
    plan: Plan | None
    checks: list[Check] = field(default_factory=list)
    # Inference specifications set aside before selection (parity gate): name -> reason.
    dropped: dict[str, str] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def reason(self) -> str:
        failed = [c.failure for c in self.checks if not c.passed]
        dropped = "".join(f"; {name} set aside: {why}" for name, why in sorted(self.dropped.items()))
        if failed:
            return "; ".join(failed) + dropped
        assert self.choice is not None and self.plan is not None
        return (
            f"{self.choice.container} on {self.choice.instance_type} x{self.plan.instance_count}:"
            f" {self.choice.model_latency_ms:g} ms within the {self.inputs.max_latency_ms:g} ms SLA at"
            f" {self.choice.cost_per_inference:.3g} USD per inference{dropped}"
        )

    def summary(self) -> dict[str, Any]:
        """The one-object answer of `rtb-mlops recommend`."""
        c, p = self.choice, self.plan
        return {
            "decision": "passed" if self.passed else "failed",
            "reason": self.reason,
            "recommendation_id": c.recommendation_id if c else None,
            "inference_specification_name": c.inference_specification_name if c else None,
            "container": c.container if c else None,
            "instance_type": c.instance_type if c else None,
            "environment": c.environment if c else None,
            "instance_count": p.instance_count if p else None,
            "target_invocations_per_instance": p.target_invocations_per_instance if p else None,
            "min_instance_count": p.min_instance_count if p else None,
            "max_instance_count": p.max_instance_count if p else None,
            "model_latency_ms": c.model_latency_ms if c else None,
            "max_invocations_per_minute": c.max_invocations_per_minute if c else None,
            "cost_per_inference": c.cost_per_inference if c else None,
            "cost_per_hour": c.cost_per_hour if c else None,
            "fleet_cost_per_hour": p.fleet_cost_per_hour if p else None,
            "candidates": len(self.candidates),
            "candidates_within_sla": sum(x.meets_sla(self.inputs.max_latency_ms) for x in self.candidates),
        }


def choose(candidates: list[Candidate], max_latency_ms: float) -> Candidate | None:
    eligible = [c for c in candidates if c.meets_sla(max_latency_ms)]
    if not eligible:
        return None
    return min(eligible, key=lambda c: (c.cost_per_inference, -c.max_invocations_per_minute, c.recommendation_id))


def plan_capacity(choice: Candidate, inputs: DecisionInputs) -> Plan:
    assert choice.max_invocations_per_minute and choice.cost_per_hour is not None
    peak_per_minute = inputs.peak_rps * 60
    usable = choice.max_invocations_per_minute * inputs.safety_factor
    # Binary floating point makes 46800 * 0.7 = 32759.999...; round away that noise first.
    count = max(inputs.min_instances, math.ceil(round(peak_per_minute / usable, 9)))
    return Plan(
        instance_count=count,
        target_invocations_per_instance=max(1, math.floor(round(usable, 9))),
        fleet_cost_per_hour=round(count * choice.cost_per_hour, 6),
        min_instance_count=inputs.min_instances,
        max_instance_count=max(inputs.max_instances, inputs.min_instances),
        peak_invocations_per_minute=peak_per_minute,
    )


def _checks(candidates: list[Candidate], choice: Candidate | None, plan: Plan | None, i: DecisionInputs) -> list[Check]:
    within = sum(c.meets_sla(i.max_latency_ms) for c in candidates)
    if choice is None or plan is None:
        valid = [c for c in candidates if c.valid]
        if not candidates:
            why = "the job returned no recommendations"
        elif not valid:
            why = f"none of the {len(candidates)} recommendations is usable: {candidates[0].excluded_reason}"
        else:
            best = min(valid, key=lambda c: c.model_latency_ms)
            why = (
                f"no recommendation meets the {i.max_latency_ms:g} ms latency SLA"
                f" (best: {best.instance_type} at {best.model_latency_ms:g} ms)"
            )
        return [Check("candidates_within_sla", False, within, 1, why)]
    return [
        Check("candidates_within_sla", True, within, 1, ""),
        Check(
            "model_latency_ms",
            choice.model_latency_ms <= i.max_latency_ms,
            choice.model_latency_ms,
            i.max_latency_ms,
            f"model latency {choice.model_latency_ms:g} ms above the {i.max_latency_ms:g} ms SLA",
        ),
        Check(
            "cost_per_inference",
            choice.cost_per_inference <= i.max_cost_per_inference,
            choice.cost_per_inference,
            i.max_cost_per_inference,
            f"cost per inference {choice.cost_per_inference:.3g} USD above the ceiling of"
            f" {i.max_cost_per_inference:.3g} USD",
        ),
        Check(
            "fleet_cost_per_hour",
            plan.fleet_cost_per_hour <= i.max_fleet_cost_per_hour,
            plan.fleet_cost_per_hour,
            i.max_fleet_cost_per_hour,
            f"fleet cost at peak {plan.fleet_cost_per_hour:.2f} USD per hour above the ceiling of"
            f" {i.max_fleet_cost_per_hour:.2f} USD per hour",
        ),
        Check(
            "instance_count",
            plan.instance_count <= i.max_instances,
            plan.instance_count,
            i.max_instances,
            f"peak load needs {plan.instance_count} instances, more than the maximum of {i.max_instances}",
        ),
    ]


def decide(
    job: dict[str, Any],
    inputs: DecisionInputs,
    instance_types: frozenset[str],
    dropped: dict[str, str] | None = None,
) -> Decision:
    """`dropped`: inference specifications whose candidates are set aside, with the reason."""
    candidates = from_job(job, instance_types)
    for name, reason in (dropped or {}).items():
        candidates = drop_specification(candidates, name, reason)
    choice = choose(candidates, inputs.max_latency_ms)
    plan = plan_capacity(choice, inputs) if choice else None
    return Decision(inputs, candidates, choice, plan, _checks(candidates, choice, plan, inputs), dict(dropped or {}))


def within_quota(d: Decision, quota_name: str, quota_value: int | None, problem: str = "") -> Decision:
    """The plan held to the account's quota for its instance type: the peak count must fit
    (the gate fails otherwise, naming the quota to raise), and autoscaling's maximum is capped
    at the quota, since scaling out beyond it would fail on AWS."""
    if d.choice is None or d.plan is None:
        return d
    if quota_value is None:
        failure = f"the plan could not be checked against the account's quota '{quota_name}': {problem}"
        return replace(d, checks=[*d.checks, Check("instance_quota", False, d.plan.instance_count, 0, failure)])
    check = Check(
        "instance_quota",
        d.plan.instance_count <= quota_value,
        d.plan.instance_count,
        quota_value,
        f"peak load needs {d.plan.instance_count} x {d.choice.instance_type}, above the account's quota"
        f" '{quota_name}' of {quota_value}; request an increase in Service Quotas",
    )
    plan = replace(
        d.plan, max_instance_count=max(min(d.plan.max_instance_count, quota_value), d.plan.min_instance_count)
    )
    return replace(d, plan=plan, checks=[*d.checks, check])
