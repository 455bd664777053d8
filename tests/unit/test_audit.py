"""The audit against botocore Stubber, every response in the SageMaker API reference's shape
(QueryLineage, ListContexts, DescribeModelPackage with a UserContext, ...)."""

import dataclasses
import hashlib
import io
from datetime import UTC, datetime

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from model_registry.audit import html, render
from model_registry.audit.collect import Clients, collect
from model_registry.audit.findings import evaluate
from model_registry.contract import Recommendation
from tests.conftest import load_fixture

NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
ACCOUNT, REGION, NAME, GROUP = "111122223333", "us-east-1", "rtb-bid-filter", "rtb-bid-filter"
PKG = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/{GROUP}/3"
EXEC = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:pipeline/{GROUP}/execution/a1b2c3d4e5f6"
CONFIG = f"{NAME}-{GROUP}-v3"
ARTIFACT = b"model bytes as registered"
APPROVER = f"arn:aws:sts::{ACCOUNT}:assumed-role/MLReviewer/alice"
REC = Recommendation(
    f"{GROUP}-v3-default", f"{GROUP}-v3-default/00000003", "ml.c6i.large", 4, 46800, 2.0, 4.2e-8, 0.119, 32760, 2, 120
)


def arn(kind: str, name: str) -> str:
    return f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:{kind}/{name}"


FAST_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/rtb-mlops-serving:v1"


def stub_chain(
    sm: Stubber,
    s3: Stubber,
    *,
    artifact: bytes = ARTIFACT,
    gate: str = "passed",
    lineage_types=None,
    instance="ml.c6i.large",
    specification="",
    recommended=REC,
):
    container = {"ModelPackageName": PKG, "Environment": {"OMP_NUM_THREADS": "2"}}
    if specification:
        container["InferenceSpecificationName"] = specification
    sm.add_response(
        "describe_endpoint",
        {
            "EndpointName": NAME,
            "EndpointArn": arn("endpoint", NAME),
            "EndpointConfigName": CONFIG,
            "EndpointStatus": "InService",
            "CreationTime": NOW,
            "LastModifiedTime": NOW,
        },
        {"EndpointName": NAME},
    )
    sm.add_response(
        "describe_endpoint_config",
        {
            "EndpointConfigName": CONFIG,
            "EndpointConfigArn": arn("endpoint-config", CONFIG),
            "CreationTime": NOW,
            "ProductionVariants": [
                {"VariantName": "AllTraffic", "ModelName": CONFIG, "InstanceType": instance, "InitialInstanceCount": 4}
            ],
        },
        {"EndpointConfigName": CONFIG},
    )
    sm.add_response(
        "describe_model",
        {
            "ModelName": CONFIG,
            "ModelArn": arn("model", CONFIG),
            "CreationTime": NOW,
            "ExecutionRoleArn": f"arn:aws:iam::{ACCOUNT}:role/rtb-mlops-sagemaker-execution",
            "PrimaryContainer": container,
        },
        {"ModelName": CONFIG},
    )
    sm.add_response(
        "list_tags",
        {"Tags": [{"Key": "rtb-mlops:model-package-arn", "Value": PKG}]},
        {"ResourceArn": arn("endpoint-config", CONFIG)},
    )
    sm.add_response(
        "describe_model_package",
        load_fixture("describe_model_package.json")
        | {
            "CreationTime": NOW,
            "ModelApprovalStatus": "Approved",
            "ApprovalDescription": "Reviewed the load test",
            "CreatedBy": {
                "IamIdentity": {
                    "Arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/SageMakerPipelines/exec",
                    "PrincipalId": "AROA1",
                }
            },
            "LastModifiedBy": {"IamIdentity": {"Arn": APPROVER, "PrincipalId": "AROA2:alice"}},
            "LastModifiedTime": NOW,
            "AdditionalInferenceSpecifications": [
                {"Name": "rtb-mlops-fast", "Containers": [{"Image": FAST_IMAGE, "ModelDataUrl": "s3://b/m.tar.gz"}]}
            ],
            "MetadataProperties": {
                "CommitId": "0123abc",
                "Repository": "https://github.com/rtb-mlops/rtb-mlops",
                "GeneratedBy": EXEC,
            },
            "CustomerMetadataProperties": {
                **recommended.to_properties(),
                "gate_decision": gate,
                "model_artifact_sha256": hashlib.sha256(ARTIFACT).hexdigest(),
            },
        },
        {"ModelPackageName": PKG},
    )
    types = lineage_types or [
        ("Artifact", "Model", True),
        ("Action", "InferenceRecommendationsJob", True),
        ("Action", "ApprovalGate", True),
        ("Context", "PipelineExecution", False),
        ("Context", "Endpoint", False),
    ]
    # Lineage holds the package as the artifact SageMaker keeps for it (SourceUri = its ARN).
    start = arn("artifact", "package")
    sm.add_response("list_artifacts", {"ArtifactSummaries": [{"ArtifactArn": start}]}, {"SourceUri": PKG})
    vertices, edges = [{"Arn": start, "Type": "Model", "LineageType": "Artifact"}], []
    for i, (lineage_type, vertex_type, into) in enumerate(types):
        kind = {"Artifact": "artifact", "Action": "action", "Context": "context"}[lineage_type]
        v = arn(kind, f"v{i}")
        vertices.append({"Arn": v, "Type": vertex_type, "LineageType": lineage_type})
        edges.append(
            {"SourceArn": v, "DestinationArn": start, "AssociationType": "ContributedTo"}
            if into
            else {"SourceArn": start, "DestinationArn": v, "AssociationType": "ContributedTo"}
        )
    sm.add_response(
        "query_lineage",
        {"Vertices": vertices, "Edges": edges},
        {"StartArns": [start], "Direction": "Both", "IncludeEdges": True, "MaxDepth": 1},
    )
    endpoint_ctx = [v["Arn"] for v in vertices if v["Type"] == "Endpoint"]
    sm.add_response(
        "list_contexts",
        {
            "ContextSummaries": [
                {
                    "ContextArn": c,
                    "ContextName": "endpoint-rtb-bid-filter",
                    "Source": {"SourceUri": arn("endpoint", NAME)},
                    "ContextType": "Endpoint",
                }
                for c in endpoint_ctx
            ]
        },
        {"SourceUri": arn("endpoint", NAME)},
    )
    s3.add_response(
        "get_object",
        {"Body": StreamingBody(io.BytesIO(artifact), len(artifact)), "ContentLength": len(artifact)},
        {"Bucket": "bucket", "Key": "inputs/abc/model.tar.gz"},
    )
    sm.add_response(
        "describe_pipeline_execution",
        {
            "PipelineArn": arn("pipeline", GROUP),
            "PipelineExecutionArn": EXEC,
            "PipelineExecutionStatus": "Succeeded",
            "CreationTime": NOW,
            "LastModifiedTime": NOW,
        },
        {"PipelineExecutionArn": EXEC},
    )
    sm.add_response(
        "list_pipeline_execution_steps",
        {
            "PipelineExecutionSteps": [
                {
                    "StepName": "RegisterModel",
                    "StartTime": NOW,
                    "EndTime": NOW,
                    "StepStatus": "Succeeded",
                    "Metadata": {"RegisterModel": {"Arn": PKG}},
                },
                {
                    "StepName": "Recommend",
                    "StartTime": NOW,
                    "EndTime": NOW,
                    "StepStatus": "Succeeded",
                    "Metadata": {"ProcessingJob": {"Arn": arn("processing-job", "pipelines-a1b2c3d4e5f6-recommend")}},
                },
            ]
        },
        {"PipelineExecutionArn": EXEC, "SortOrder": "Ascending"},
    )
    sm.add_response(
        "list_pipeline_parameters_for_execution",
        {"PipelineParameters": [{"Name": "MaxLatencyMs", "Value": "20"}]},
        {"PipelineExecutionArn": EXEC},
    )
    sm.add_response("describe_inference_recommendations_job", {
        "JobName": REC.recommendation_job_name, "JobType": "Default", "JobArn": arn("inference-recommendations-job", REC.recommendation_job_name),
        "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/rtb-mlops-sagemaker-execution", "Status": "COMPLETED",
        "CreationTime": NOW, "LastModifiedTime": NOW, "InputConfig": {"ModelPackageVersionArn": PKG},
        "InferenceRecommendations": [
            {"RecommendationId": REC.recommendation_id, "Metrics": {"CostPerHour": 0.119, "CostPerInference": 4.2e-8, "MaxInvocations": 46800, "ModelLatency": 2},
             "EndpointConfiguration": {"EndpointName": "sm-epc-1", "VariantName": "sm-epc-1", "InstanceType": "ml.c6i.large"},
             "ModelConfiguration": {"EnvironmentParameters": [{"Key": "OMP_NUM_THREADS", "ValueType": "String", "Value": "2"}]}},
            {"RecommendationId": f"{REC.recommendation_job_name}/00000001", "Metrics": {"CostPerHour": 0.119, "CostPerInference": 4.8e-8, "MaxInvocations": 41200, "ModelLatency": 2},
             "EndpointConfiguration": {"EndpointName": "sm-epc-2", "VariantName": "sm-epc-2", "InstanceType": "ml.c5.large"},
             "ModelConfiguration": {}},
        ],
    }, {"JobName": REC.recommendation_job_name})  # fmt: skip


@pytest.fixture
def stubs():
    sm, s3 = boto3.client("sagemaker", region_name=REGION), boto3.client("s3", region_name=REGION)
    with Stubber(sm) as sms, Stubber(s3) as s3s:
        yield sm, s3, sms, s3s
        sms.assert_no_pending_responses()
        s3s.assert_no_pending_responses()


def run(stubs, **kw):
    sm, s3, sms, s3s = stubs
    stub_chain(sms, s3s, **kw)
    return evaluate(collect(Clients(sm, s3), endpoint=NAME))


def test_clean_chain_json_has_the_contract_keys(stubs):
    a = run(stubs)
    assert a.findings == []
    d = a.to_dict()
    assert d["findings"] == [] and d["endpoint"]["name"] == NAME
    assert d["model_package"]["arn"] == PKG and d["model_package"]["approval_status"] == "Approved"
    assert d["model_package"]["approved_by"] == APPROVER  # from LastModifiedBy.IamIdentity
    assert d["pipeline_execution"]["arn"] == EXEC and d["pipeline_execution"]["parameters"] == {"MaxLatencyMs": "20"}
    assert d["recommendation"]["job_name"] == REC.recommendation_job_name
    assert d["recommendation"]["chosen"]["instance_type"] == "ml.c6i.large"
    assert [r["instance_type"] for r in d["recommendation"]["alternatives"]] == ["ml.c5.large"]
    assert d["artifact"]["uri"] == "s3://bucket/inputs/abc/model.tar.gz"
    assert d["artifact"]["sha256_recorded"] == d["artifact"]["sha256_now"] == hashlib.sha256(ARTIFACT).hexdigest()


def test_changed_artifact(stubs):
    assert [f.code for f in run(stubs, artifact=b"swapped").findings] == ["ARTIFACT_CHANGED"]


def test_approved_without_passed_gate(stubs):
    findings = run(stubs, gate="failed: latency above the SLA").findings
    assert [f.code for f in findings] == ["APPROVED_WITHOUT_PASSED_GATE"]
    assert APPROVER in findings[0].message


def test_config_that_does_not_match_the_recommendation(stubs):
    findings = run(stubs, instance="ml.c5.xlarge").findings
    assert [f.code for f in findings] == ["CONFIG_CHANGED_OUTSIDE_DEPLOY"]


def test_the_audit_names_the_serving_container_and_its_image(stubs):
    text = render.as_text(run(stubs))
    line = next(line for line in text.splitlines() if "serving container" in line)
    assert line.endswith("stock-xgboost (683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:3.0-5)")


def test_a_model_serving_another_container_than_recommended_is_flagged(stubs):
    a = run(stubs, specification="rtb-mlops-fast")
    assert [f.code for f in a.findings] == ["CONFIG_CHANGED_OUTSIDE_DEPLOY"]
    assert "its model serves rtb-mlops-fast, the recommendation was stock-xgboost" in a.findings[0].message
    assert f"rtb-mlops-fast ({FAST_IMAGE})" in render.as_text(a)


def test_a_model_serving_the_recommended_fast_specification_is_clean(stubs):
    fast = dataclasses.replace(REC, inference_specification_name="rtb-mlops-fast")
    assert run(stubs, specification="rtb-mlops-fast", recommended=fast).findings == []


def test_missing_lineage_links_are_each_named(stubs):
    findings = run(stubs, lineage_types=[("Artifact", "Model", True)]).findings
    assert [f.code for f in findings] == ["MISSING_LINEAGE"] * 4
    assert {f.message.split(": ", 1)[1] for f in findings} == {
        "recommender job -> model package", "approval gate -> model package",
        "model package -> pipeline execution", f"model package -> endpoint {NAME}",
    }  # fmt: skip


def test_renderings(stubs):
    a = run(stubs, artifact=b"swapped")
    assert render.as_text(a).startswith("FINDINGS\n  [CRITICAL] ARTIFACT_CHANGED")
    md = render.as_markdown(a)
    assert "```mermaid" in md and "class artifact bad" in md
    page = html.as_html(a)
    assert page.count("<rect") >= 8 and "ARTIFACT_CHANGED" in page


def _golden_check(verdict: str, at: datetime, mismatched: str) -> dict:
    """A DescribeAction response for one `rtb-mlops check` (API reference shape)."""
    return {
        "ActionName": f"golden-check-{at:%Y%m%dT%H%M%S}-{NAME}-staging-v3",
        "ActionArn": arn("action", f"golden-check-{at:%Y%m%dT%H%M%S}"),
        "Source": {"SourceUri": arn("endpoint", f"{NAME}-staging")},
        "ActionType": "GoldenRequestCheck",
        "Status": "Completed" if verdict == "passed" else "Failed",
        "Properties": {"verdict": verdict, "endpoint": f"{NAME}-staging", "rows": "10",
                       "mismatched_rows": mismatched, "max_abs_diff": "0.25", "tolerance": "1e-06"},
        "CreationTime": at,
    }  # fmt: skip


@pytest.mark.parametrize(("newest", "codes"), [("failed", ["GOLDEN_CHECK_FAILED"]), ("passed", [])])
def test_the_newest_golden_check_is_shown_and_a_failed_one_is_a_finding(stubs, newest, codes):
    sm, s3, sms, s3s = stubs
    types = [("Artifact", "Model", True), ("Action", "InferenceRecommendationsJob", True),
             ("Action", "ApprovalGate", True), ("Context", "PipelineExecution", False), ("Context", "Endpoint", False),
             ("Action", "GoldenRequestCheck", True), ("Action", "GoldenRequestCheck", True)]  # fmt: skip
    stub_chain(sms, s3s, lineage_types=types)
    older = "failed" if newest == "passed" else "passed"
    sms.add_response("describe_action", _golden_check(older, NOW, "3" if older == "failed" else "0"))
    sms.add_response("describe_action", _golden_check(newest, NOW.replace(hour=11), "3" if newest == "failed" else "0"))
    a = evaluate(collect(Clients(sm, s3), endpoint=NAME))
    assert [f.code for f in a.findings] == codes
    assert a.golden_check.verdict == newest and a.to_dict()["golden_check"]["endpoint"] == f"{NAME}-staging"
    assert f"  golden check         {newest} on {NAME}-staging at 2026-11-29 11:00:00+00:00" in render.as_text(a)
