"""Inference Recommender's recommendations, as candidates the selection can trust.

A candidate is a (container, instance type, environment): the container is the package's
inference specification the recommendation benchmarked (`ModelConfiguration.
InferenceSpecificationName`; none: the primary, stock XGBoost one). A recommendation missing a
metric the decision needs, naming an instance type the API does not know, or setting a
container variable the deploy Lambda refuses (`tunable_env`), is kept in the results with the
reason it was set aside; so is every candidate of a specification the parity gate dropped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

from model_registry import tunable_env
from model_registry.names import specification_label

REQUIRED_METRICS = ("CostPerHour", "CostPerInference", "MaxInvocations", "ModelLatency")


@dataclass(frozen=True)
class Candidate:
    recommendation_id: str
    instance_type: str
    environment: dict[str, str]
    model_latency_ms: float | None
    max_invocations_per_minute: int | None
    cost_per_inference: float | None
    cost_per_hour: float | None
    cpu_utilization: float | None = None
    memory_utilization: float | None = None
    excluded_reason: str = ""
    notes: list[str] = field(default_factory=list)
    # The package's inference specification benchmarked; "" is the primary one.
    inference_specification_name: str = ""

    @property
    def container(self) -> str:
        return specification_label(self.inference_specification_name)

    @property
    def valid(self) -> bool:
        return not self.excluded_reason

    def meets_sla(self, max_latency_ms: float) -> bool:
        return self.valid and self.model_latency_ms is not None and self.model_latency_ms <= max_latency_ms

    def to_dict(self, max_latency_ms: float) -> dict[str, Any]:
        return {
            "recommendation_id": self.recommendation_id,
            "inference_specification_name": self.inference_specification_name,
            "container": self.container,
            "instance_type": self.instance_type,
            "environment": self.environment,
            "model_latency_ms": self.model_latency_ms,
            "max_invocations_per_minute": self.max_invocations_per_minute,
            "cost_per_inference": self.cost_per_inference,
            "cost_per_hour": self.cost_per_hour,
            "cpu_utilization": self.cpu_utilization,
            "memory_utilization": self.memory_utilization,
            "meets_sla": self.meets_sla(max_latency_ms),
            "excluded_reason": self.excluded_reason,
            "notes": self.notes,
        }


def _number(metrics: dict[str, Any], key: str) -> float | None:
    value = metrics.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def from_recommendation(rec: dict[str, Any], instance_types: frozenset[str]) -> Candidate:
    metrics = rec.get("Metrics") or {}
    endpoint = rec.get("EndpointConfiguration") or {}
    model = rec.get("ModelConfiguration") or {}
    params = model.get("EnvironmentParameters") or []
    instance_type = str(endpoint.get("InstanceType") or "")
    values = {key: _number(metrics, key) for key in REQUIRED_METRICS}
    problems = [f"{key} missing or not a finite number" for key, v in values.items() if v is None]
    if not instance_type:
        problems.append("no InstanceType (serverless recommendations are not deployable here)")
    elif instance_type not in instance_types:
        problems.append(f"instance type {instance_type!r} is not a SageMaker real-time instance type")
    if values["MaxInvocations"] is not None and values["MaxInvocations"] <= 0:
        problems.append("MaxInvocations is not positive")
    environment = {str(p.get("Key")): str(p.get("Value")) for p in params if isinstance(p, dict) and p.get("Key")}
    problems.extend(f"environment: {p}" for p in tunable_env.problems(environment))
    notes = [
        f"{key} is not a finite number"
        for key in ("CpuUtilization", "MemoryUtilization")
        if key in metrics and _number(metrics, key) is None
    ]
    return Candidate(
        recommendation_id=str(rec.get("RecommendationId") or ""),
        instance_type=instance_type,
        environment=environment,
        model_latency_ms=values["ModelLatency"],
        max_invocations_per_minute=int(values["MaxInvocations"]) if values["MaxInvocations"] is not None else None,
        cost_per_inference=values["CostPerInference"],
        cost_per_hour=values["CostPerHour"],
        cpu_utilization=_number(metrics, "CpuUtilization"),
        memory_utilization=_number(metrics, "MemoryUtilization"),
        excluded_reason="; ".join(problems),
        notes=notes,
        inference_specification_name=str(model.get("InferenceSpecificationName") or ""),
    )


def from_job(job: dict[str, Any], instance_types: frozenset[str]) -> list[Candidate]:
    recs = job.get("InferenceRecommendations") or []
    return [from_recommendation(r, instance_types) for r in recs if isinstance(r, dict)]


def drop_specification(candidates: list[Candidate], name: str, reason: str) -> list[Candidate]:
    """Every candidate of specification `name` set aside with `reason` (kept, for the record)."""
    return [
        replace(c, excluded_reason="; ".join(filter(None, [reason, c.excluded_reason])))
        if c.inference_specification_name == name
        else c
        for c in candidates
    ]
