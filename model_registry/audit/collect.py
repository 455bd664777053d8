"""Gathering the evidence: each link of the chain read from the API that owns it."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from botocore.client import BaseClient
from botocore.exceptions import ClientError

from model_registry import lineage, packages
from model_registry.audit.evidence import (
    ArtifactEvidence,
    Audit,
    ConfigEvidence,
    EndpointEvidence,
    ExecutionEvidence,
    PackageEvidence,
    RecommendationEvidence,
    StepEvidence,
)
from model_registry.audit.golden import latest_check
from model_registry.contract import ARTIFACT_SHA256, GATE_DECISION, RECOMMENDATION_ID, RECOMMENDATION_JOB_NAME
from model_registry.endpoints import package_of_model, specification_of_model
from model_registry.errors import UserError
from model_registry.names import TAG_PACKAGE, specification_label

_EXECUTION = re.compile(r"arn:aws[a-z\-]*:sagemaker:[^:]+:\d{12}:pipeline/[^/]+/execution/[^/]+")


class AuditError(RuntimeError):
    pass


@dataclass(frozen=True)
class Clients:
    sm: BaseClient
    s3: BaseClient


def _endpoint(c: Clients, name: str) -> tuple[EndpointEvidence, ConfigEvidence, str]:
    """The endpoint, its config, and the model package its model serves."""
    try:
        e = c.sm.describe_endpoint(EndpointName=name)
    except ClientError as exc:
        raise AuditError(f"endpoint {name}: {exc.response['Error'].get('Message', exc)}") from None
    cfg = c.sm.describe_endpoint_config(EndpointConfigName=e["EndpointConfigName"])
    variant = cfg["ProductionVariants"][0]
    model = c.sm.describe_model(ModelName=variant["ModelName"])
    package_arn = package_of_model(model) or ""
    if not package_arn:
        raise AuditError(f"endpoint {name} serves model {variant['ModelName']}, which is not made from a model package")
    tags = {t["Key"]: t["Value"] for t in c.sm.list_tags(ResourceArn=cfg["EndpointConfigArn"]).get("Tags", [])}
    return (
        EndpointEvidence(
            name, e["EndpointArn"], e["EndpointStatus"], e["EndpointConfigName"], e.get("LastModifiedTime")
        ),
        ConfigEvidence(
            cfg["EndpointConfigName"],
            variant.get("InstanceType", ""),
            variant.get("InitialInstanceCount"),
            variant["ModelName"],
            tags.get(TAG_PACKAGE, ""),
            specification_of_model(model),
        ),
        package_arn,
    )


def _package(c: Clients, arn: str) -> PackageEvidence:
    try:
        raw = c.sm.describe_model_package(ModelPackageName=arn)
    except ClientError as exc:
        raise AuditError(f"model package {arn}: {exc.response['Error'].get('Message', exc)}") from None
    p = packages.PackageVersion.from_api(raw)
    decided = p.approval_status in (packages.APPROVED, packages.REJECTED)
    return PackageEvidence(
        arn=p.arn,
        group=p.group,
        version=p.version,
        approval_status=p.approval_status,
        status=p.status,
        approved_by=(p.last_modified_by or p.created_by) if decided else "",
        approved_at=(p.last_modified_time or p.creation_time) if decided else None,
        description=p.approval_description,
        created_by=p.created_by,
        created_at=p.creation_time,
        commit=p.metadata_properties.get("CommitId", ""),
        repository=p.metadata_properties.get("Repository", ""),
        generated_by=p.metadata_properties.get("GeneratedBy", ""),
        model_data_url=p.model_data_url,
        sample_payload_url=p.sample_payload_url,
        metadata=p.customer_metadata,
        images={
            specification_label(""): p.image,
            **{specification_label(name): image for name, image in p.specifications.items()},
        },
    )


def _execution(c: Clients, arn: str) -> ExecutionEvidence | None:
    if not _EXECUTION.fullmatch(arn):
        return None
    try:
        d = c.sm.describe_pipeline_execution(PipelineExecutionArn=arn)
    except ClientError:
        return None
    steps = c.sm.list_pipeline_execution_steps(PipelineExecutionArn=arn, SortOrder="Ascending")[
        "PipelineExecutionSteps"
    ]
    try:
        params = c.sm.list_pipeline_parameters_for_execution(PipelineExecutionArn=arn)["PipelineParameters"]
    except ClientError:
        params = []
    return ExecutionEvidence(
        arn=arn,
        status=d["PipelineExecutionStatus"],
        failure_reason=d.get("FailureReason", ""),
        parameters={p["Name"]: p["Value"] for p in params},
        steps=[
            StepEvidence(
                s["StepName"], s["StepStatus"], s.get("StartTime"), s.get("EndTime"), s.get("FailureReason", "")
            )
            for s in steps
        ],
    )


def _recommendation(c: Clients, metadata: dict[str, str]) -> RecommendationEvidence | None:
    job = metadata.get(RECOMMENDATION_JOB_NAME)
    if not job:
        return None
    try:
        d = c.sm.describe_inference_recommendations_job(JobName=job)
    except ClientError:
        return RecommendationEvidence(job, "not found", {}, [])
    rows = []
    for r in d.get("InferenceRecommendations", []):
        m = r.get("Metrics", {})
        model = r.get("ModelConfiguration") or {}
        env = model.get("EnvironmentParameters") or []
        rows.append(
            {
                "recommendation_id": r.get("RecommendationId", ""),
                "container": specification_label(
                    (r.get("ModelConfiguration") or {}).get("InferenceSpecificationName", "")
                ),
                "instance_type": (r.get("EndpointConfiguration") or {}).get("InstanceType", ""),
                "environment": {e["Key"]: e["Value"] for e in env},
                "model_latency_ms": m.get("ModelLatency"),
                "max_invocations_per_minute": m.get("MaxInvocations"),
                "cost_per_inference": m.get("CostPerInference"),
                "cost_per_hour": m.get("CostPerHour"),
            }
        )
    chosen_id = metadata.get(RECOMMENDATION_ID)
    chosen = next((r for r in rows if r["recommendation_id"] == chosen_id), {})
    return RecommendationEvidence(job, d["Status"], chosen, [r for r in rows if r is not chosen])


def _artifact(c: Clients, package: PackageEvidence) -> ArtifactEvidence:
    uri, recorded = package.model_data_url, package.metadata.get(ARTIFACT_SHA256, "")
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    try:
        body = c.s3.get_object(Bucket=bucket, Key=key)["Body"]
        digest = hashlib.sha256()
        for chunk in iter(lambda: body.read(1 << 20), b""):
            digest.update(chunk)
    except ClientError as exc:
        return ArtifactEvidence(uri, recorded, None, f"cannot read the artifact: {exc.response['Error'].get('Code')}")
    return ArtifactEvidence(uri, recorded, digest.hexdigest())


def _lineage(
    c: Clients, package: PackageEvidence, endpoint: EndpointEvidence | None
) -> tuple[list[dict], list[str], list[str]]:
    """The package's lineage edges, the links the flow records that are not there, and the
    golden-request checks linked into the package.

    Lineage holds a model package as the artifact SageMaker keeps for it (found by SourceUri);
    QueryLineage starts there, as it accepts no model-package ARN."""
    try:
        start = lineage.package_artifact_of(c.sm, package.arn)
        if start is None:
            return [], ["model package has no lineage artifact (SourceUri = its ARN)"], []
        graph = c.sm.query_lineage(StartArns=[start], Direction="Both", IncludeEdges=True, MaxDepth=1)
    except ClientError as exc:
        return [], [f"lineage cannot be queried: {exc.response['Error'].get('Code')}"], []
    vertices = {v["Arn"]: (v.get("LineageType", ""), v.get("Type", "")) for v in graph.get("Vertices", [])}
    edges = graph.get("Edges", [])

    def linked(lineage_type: str, vertex_type: str, into_package: bool) -> bool:
        for e in edges:
            other = e["SourceArn"] if into_package else e["DestinationArn"]
            end = e["DestinationArn"] if into_package else e["SourceArn"]
            if end == start and vertices.get(other) == (lineage_type, vertex_type):
                return True
        return False

    expected = [
        ("model artifact -> model package", "Artifact", lineage.MODEL_ARTIFACT, True),
        ("recommender job -> model package", "Action", lineage.RECOMMENDER_JOB, True),
        ("approval gate -> model package", "Action", lineage.APPROVAL_GATE, True),
    ]
    if _EXECUTION.fullmatch(package.generated_by):
        expected.append(("model package -> pipeline execution", "Context", lineage.PIPELINE_EXECUTION, False))
    missing = [label for label, lt, vt, into in expected if not linked(lt, vt, into)]
    if endpoint is not None:
        contexts = {x["ContextArn"] for x in c.sm.list_contexts(SourceUri=endpoint.arn).get("ContextSummaries", [])}
        if not any(e["SourceArn"] == start and e["DestinationArn"] in contexts for e in edges):
            missing.append(f"model package -> endpoint {endpoint.name}")
    checks = [
        e["SourceArn"]
        for e in edges
        if e["DestinationArn"] == start and vertices.get(e["SourceArn"]) == ("Action", lineage.GOLDEN_CHECK)
    ]
    return edges, missing, checks


def collect(c: Clients, endpoint: str | None = None, package_arn: str | None = None) -> Audit:
    if (endpoint is None) == (package_arn is None):
        raise UserError("audit needs exactly one of an endpoint name or a model package ARN")
    endpoint_ev = config_ev = None
    if endpoint is not None:
        endpoint_ev, config_ev, package_arn = _endpoint(c, endpoint)
    package = _package(c, package_arn)
    edges, missing, golden_checks = _lineage(c, package, endpoint_ev)
    return Audit(
        package=package,
        artifact=_artifact(c, package),
        gate_decision=package.metadata.get(GATE_DECISION, ""),
        endpoint=endpoint_ev,
        config=config_ev,
        execution=_execution(c, package.generated_by),
        recommendation=_recommendation(c, package.metadata),
        golden_check=latest_check(c.sm, golden_checks),
        lineage_edges=edges,
        missing_links=missing,
    )
