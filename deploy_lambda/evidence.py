"""The evidence behind a package's recommendation, read where metadata edits cannot reach it.

The Inference Recommender job that `recommendation_job_name` names is read from the service:
it must exist, have COMPLETED, have benchmarked this very package version (its
`InputConfig.ModelPackageVersionArn`), and hold the chosen `recommendation_id` with the same
instance type, container environment and inference specification
(`ModelConfiguration.InferenceSpecificationName`; none: the primary one). That specification
must be one the package really has. The gate's decision must be `passed`.
"""

from __future__ import annotations

import re
from typing import Any

from botocore.client import BaseClient
from botocore.exceptions import ClientError

from model_registry.contract import (
    GATE_DECISION,
    INFERENCE_SPECIFICATION_NAME,
    PASSED,
    RECOMMENDATION_ID,
    RECOMMENDATION_JOB_NAME,
    RECOMMENDED_INSTANCE_TYPE,
    Recommendation,
)

# The API's JobName pattern: a name outside it would be refused by botocore before any call.
_JOB_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,63}")


def _job(sm: BaseClient, name: str) -> dict[str, Any] | None:
    """The DescribeInferenceRecommendationsJob response, or None when there is no such job."""
    try:
        return sm.describe_inference_recommendations_job(JobName=name)
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ResourceNotFound":
            return None
        raise


def _pairs(env: dict[str, str]) -> str:
    return " ".join(f"{k}={v}" for k, v in sorted(env.items())) or "no variables"


def _recommendation_problems(job: dict[str, Any], rec: Recommendation) -> list[str]:
    recs = [r for r in job.get("InferenceRecommendations") or [] if isinstance(r, dict)]
    chosen = next((r for r in recs if r.get("RecommendationId") == rec.recommendation_id), None)
    if chosen is None:
        return [f"{RECOMMENDATION_ID} = {rec.recommendation_id!r} is not among the job's {len(recs)} recommendations"]
    out = []
    instance_type = (chosen.get("EndpointConfiguration") or {}).get("InstanceType")
    if instance_type != rec.recommended_instance_type:
        out.append(
            f"{RECOMMENDED_INSTANCE_TYPE} = {rec.recommended_instance_type!r}, but the job recommends"
            f" {instance_type!r} in {rec.recommendation_id}"
        )
    model = chosen.get("ModelConfiguration") or {}
    benchmarked = model.get("InferenceSpecificationName") or ""
    if benchmarked != rec.inference_specification_name:
        out.append(
            f"{INFERENCE_SPECIFICATION_NAME} = {_spec(rec.inference_specification_name)}, but the job's"
            f" {rec.recommendation_id} benchmarked {_spec(benchmarked)}"
        )
    params = model.get("EnvironmentParameters") or []
    environment = {p.get("Key"): p.get("Value") for p in params if isinstance(p, dict)}
    if environment != rec.environment:
        out.append(
            f"environment = {_pairs(rec.environment)}, but the job's {rec.recommendation_id} has {_pairs(environment)}"
        )
    return out


def _spec(name: str) -> str:
    return repr(name) if name else "the primary specification"


def problems(
    sm: BaseClient, arn: str, metadata: dict[str, str], rec: Recommendation, specifications: frozenset[str]
) -> list[str]:
    """What does not agree with the evidence, one message per key; empty when all of it does.
    `specifications`: the names of the package's additional inference specifications."""
    out = []
    if metadata.get(GATE_DECISION) != PASSED:
        out.append(f"{GATE_DECISION} = {metadata.get(GATE_DECISION)!r}, not {PASSED!r}")
    name = rec.inference_specification_name
    if name and name not in specifications:
        out.append(
            f"{INFERENCE_SPECIFICATION_NAME} = {name!r} is not an inference specification of the package"
            f" (it has: {', '.join(sorted(specifications)) or 'the primary one only'})"
        )
    name = rec.recommendation_job_name
    job = _job(sm, name) if _JOB_NAME.fullmatch(name) else None
    if job is None:
        return [
            *out,
            f"{RECOMMENDATION_JOB_NAME} = {name!r}: no such Inference Recommender job in this account and Region",
        ]
    if job.get("Status") != "COMPLETED":
        out.append(f"{RECOMMENDATION_JOB_NAME} = {name!r}: the job is {job.get('Status')}, not COMPLETED")
    benchmarked = (job.get("InputConfig") or {}).get("ModelPackageVersionArn")
    if benchmarked != arn:
        out.append(f"{RECOMMENDATION_JOB_NAME} = {name!r}: the job benchmarked {benchmarked or 'no model package'}")
    return out + _recommendation_problems(job, rec)
