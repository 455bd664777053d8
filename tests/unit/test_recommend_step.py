"""The Recommend step against botocore Stubber, with response shapes from the SageMaker API."""

import argparse
import copy
import io
import json
from datetime import UTC, datetime

import boto3
import pytest
from botocore.stub import ANY, Stubber

from model_registry.contract import Recommendation
from steps import ir_job, recommend
from tests.conftest import load_fixture

ARN = "arn:aws:sagemaker:us-east-1:111122223333:model-package/rtb-bid-filter/3"
ROLE = "arn:aws:iam::111122223333:role/rtb-mlops-sagemaker-execution"
NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def args(tmp_path, job_type="Default", **kw) -> argparse.Namespace:
    argv = [
        "--model-package-arn", ARN, "--role-arn", ROLE, "--job-type", job_type,
        "--instance-types", "ml.c5.large,ml.c6i.large", "--omp-num-threads", "1,2",
        "--max-latency-ms", "20", "--peak-rps", "50000", "--safety-factor", "0.7",
        "--min-instances", "2", "--max-instances", "120", "--max-cost-per-inference", "0.000002",
        "--max-fleet-cost-per-hour", "50", "--job-duration-seconds", str(kw.get("duration", 7200)),
        "--output-dir", str(tmp_path / "out"),
    ]  # fmt: skip
    return recommend.parse_args(argv)


def package() -> dict:
    return load_fixture("describe_model_package.json") | {"CreationTime": NOW}


def job_response(fixture: str, **changes) -> dict:
    job = copy.deepcopy(load_fixture(fixture))
    for key in ("CreationTime", "CompletionTime", "LastModifiedTime"):
        job[key] = NOW
    for rec in job.get("InferenceRecommendations", []):
        rec["InvocationStartTime"] = rec["InvocationEndTime"] = NOW
    job.update(changes)
    if not job.get("InferenceRecommendations"):
        job.pop("InferenceRecommendations", None)  # the API omits it until there are some
    return job


def lineage(stub: Stubber, job: str) -> None:
    """The Recommend step's lineage: artifact, payload and job recorded, then linked."""
    art, pay, act = (
        f"arn:aws:sagemaker:us-east-1:111122223333:{k}"
        for k in ("artifact/a1", "artifact/p1", "action/recommender-" + job)
    )
    stub.add_response(
        "list_artifacts",
        {"ArtifactSummaries": []},
        {"SourceUri": "s3://bucket/inputs/abc/model.tar.gz"},
    )
    stub.add_response(
        "create_artifact",
        {"ArtifactArn": art},
        {
            "ArtifactName": "model-abc",
            "ArtifactType": "Model",
            "Properties": {"sha256": "ab" * 32},
            "Source": {
                "SourceUri": "s3://bucket/inputs/abc/model.tar.gz",
                "SourceTypes": [{"SourceIdType": "Custom", "Value": "ab" * 32}],
            },
        },
    )
    stub.add_response(
        "list_artifacts",
        {"ArtifactSummaries": []},
        {"SourceUri": "s3://bucket/inputs/def/payload.tar.gz"},
    )
    stub.add_response(
        "create_artifact",
        {"ArtifactArn": pay},
        {
            "ArtifactName": "samplepayload-def",
            "ArtifactType": "SamplePayload",
            "Properties": {},
            "Source": {"SourceUri": "s3://bucket/inputs/def/payload.tar.gz"},
        },
    )
    stub.add_client_error("describe_action", "ResourceNotFound", f"Action recommender-{job} does not exist.", 400)
    stub.add_response(
        "create_action",
        {"ActionArn": act},
        {
            "ActionName": f"recommender-{job}",
            "ActionType": "InferenceRecommendationsJob",
            "Status": "Completed",
            "Source": {"SourceUri": f"arn:aws:sagemaker:us-east-1:111122223333:inference-recommendations-job/{job}"},
            "Properties": ANY,
        },
    )
    # The package is linked through the artifact SageMaker keeps for it (SourceUri = its ARN).
    pkg = "arn:aws:sagemaker:us-east-1:111122223333:artifact/pkg1"
    stub.add_response("list_artifacts", {"ArtifactSummaries": [{"ArtifactArn": pkg}]}, {"SourceUri": ARN})
    for src, dst in ((art, pkg), (pay, act), (act, pkg)):
        stub.add_response("list_associations", {"AssociationSummaries": []}, {"SourceArn": src, "DestinationArn": dst})
        stub.add_response(
            "add_association",
            {"SourceArn": src, "DestinationArn": dst},
            {"SourceArn": src, "DestinationArn": dst, "AssociationType": "ContributedTo"},
        )


def not_found(stub: Stubber, name: str) -> None:
    stub.add_client_error(
        "describe_inference_recommendations_job",
        service_error_code="ResourceNotFound",
        service_message=f"Inference recommendations job {name} not found",
        http_status_code=400,
        expected_params={"JobName": name},
    )


def steps(stub: Stubber, name: str, done: int, total: int) -> None:
    stub.add_response(
        "list_inference_recommendations_job_steps",
        {
            "Steps": [
                {"StepType": "BENCHMARK", "JobName": name, "Status": "COMPLETED" if i < done else "IN_PROGRESS"}
                for i in range(total)
            ]
        },
        {"JobName": name},
    )


def default_job_created(stub: Stubber, name: str, extra_input: dict) -> None:
    stub.add_response(
        "create_inference_recommendations_job",
        {"JobArn": f"arn:aws:sagemaker:us-east-1:111122223333:inference-recommendations-job/{name}"},
        {
            "JobName": name,
            "JobType": "Default",
            "RoleArn": ROLE,
            "JobDescription": ANY,
            "InputConfig": {"ModelPackageVersionArn": ARN, "JobDurationInSeconds": 7200, **extra_input},
        },
    )


@pytest.fixture
def sm():
    client = boto3.client("sagemaker", region_name="us-east-1")
    with Stubber(client) as stub:
        client.stub = stub
        yield client
        stub.assert_no_pending_responses()


def service_quotas(value: float = 20.0):
    """Service Quotas answering every real-time type's `for endpoint usage` quota (AWS's shape)."""
    from model_registry.instance_types import realtime_instance_types

    sq = boto3.client("service-quotas", region_name="us-east-1")
    stub = Stubber(sq)
    quotas = [
        {"ServiceCode": "sagemaker", "QuotaCode": f"L-{i:08X}", "QuotaName": f"{t} for endpoint usage", "Value": value}
        for i, t in enumerate(sorted(realtime_instance_types()))
    ]
    stub.add_response("list_service_quotas", {"Quotas": quotas}, {"ServiceCode": "sagemaker"})
    stub.activate()
    return sq


def _run(sm, a, sq=None):
    out = io.StringIO()
    # The fixtures plan 92 instances at peak: an account whose quota was raised for that.
    decision = recommend.run(a, sm, out=out, sleep=lambda s: None, sq=sq or service_quotas(200.0))
    return decision, out.getvalue()


def test_default_job_end_to_end(sm, tmp_path):
    name = "rtb-bid-filter-v3-default"
    stub = sm.stub
    stub.add_response("describe_model_package", package(), {"ModelPackageName": ARN})
    not_found(stub, name)
    default_job_created(stub, name, {})
    stub.add_response(
        "describe_inference_recommendations_job",
        job_response("ir_job_default.json", Status="IN_PROGRESS", InferenceRecommendations=[]),
    )
    steps(stub, name, 2, 5)
    stub.add_response("describe_inference_recommendations_job", job_response("ir_job_default.json"))
    stub.add_response(
        "get_scaling_configuration_recommendation",
        {
            "InferenceRecommendationsJobName": name,
            "RecommendationId": f"{name}/00000003",
            "Metric": {"InvocationsPerInstance": 32760, "ModelLatency": 2},
            "DynamicScalingConfiguration": {
                "MinCapacity": 2,
                "MaxCapacity": 92,
                "ScaleInCooldown": 300,
                "ScaleOutCooldown": 60,
            },
        },
        {
            "InferenceRecommendationsJobName": name,
            "RecommendationId": f"{name}/00000003",
            "ScalingPolicyObjective": {"MaxInvocationsPerMinute": 3_000_000},
        },
    )
    stub.add_response(
        "update_model_package", {"ModelPackageArn": ARN}, {"ModelPackageArn": ARN, "CustomerMetadataProperties": ANY}
    )
    lineage(stub, name)

    decision, printed = _run(sm, args(tmp_path))

    assert decision.passed and decision.choice.instance_type == "ml.c6i.large"
    assert "benchmarks 2/5 done" in printed and "COMPLETED" in printed
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["choice"]["instance_type"] == "ml.c6i.large"
    assert results["plan"]["instance_count"] == 92
    assert results["scaling_recommendation"]["DynamicScalingConfiguration"]["MaxCapacity"] == 92
    # boto3 and the standard library only: the chart is the client's, drawn from results.json.
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["results.json"]


def test_written_metadata_is_the_contract(sm, tmp_path):
    """What the Lambda will read back is exactly the recommendation."""
    captured = {}
    sm.meta.events.register(
        "before-parameter-build.sagemaker.UpdateModelPackage", lambda params, **_: captured.update(params)
    )
    stub = sm.stub
    stub.add_response("describe_model_package", package())
    # A retried step: the job already exists and is followed, not started again.
    stub.add_response("describe_inference_recommendations_job", job_response("ir_job_default.json"))
    stub.add_response("describe_inference_recommendations_job", job_response("ir_job_default.json"))
    stub.add_response("get_scaling_configuration_recommendation", {})
    stub.add_response("update_model_package", {"ModelPackageArn": ARN})
    lineage(stub, "rtb-bid-filter-v3-default")
    _, printed = _run(sm, args(tmp_path))
    assert "already exists (COMPLETED); following it" in printed
    rec = Recommendation.from_properties(ARN, captured["CustomerMetadataProperties"])
    assert rec.recommended_instance_type == "ml.c6i.large" and rec.recommended_instance_count == 92
    assert rec.environment == {"OMP_NUM_THREADS": "2"} and rec.max_instance_count == 120
    # ... and it agrees with the job the deploy Lambda reads as its evidence.
    from deploy_lambda import evidence

    lambda_sm = boto3.client("sagemaker", region_name="us-east-1")
    metadata = {**captured["CustomerMetadataProperties"], "gate_decision": "passed"}
    with Stubber(lambda_sm) as lambda_stub:
        job = job_response("ir_job_default.json")
        lambda_stub.add_response("describe_inference_recommendations_job", job, {"JobName": job["JobName"]})
        assert evidence.problems(lambda_sm, ARN, metadata, rec, frozenset()) == []


def test_advanced_job_request_shape(sm, tmp_path):
    name = "rtb-bid-filter-v3-advanced"
    stub = sm.stub
    stub.add_response("describe_model_package", package())
    not_found(stub, name)
    stub.add_response(
        "create_inference_recommendations_job",
        {"JobArn": f"arn:aws:sagemaker:us-east-1:111122223333:inference-recommendations-job/{name}"},
        {
            "JobName": name,
            "JobType": "Advanced",
            "RoleArn": ROLE,
            "JobDescription": ANY,
            "InputConfig": {
                "ModelPackageVersionArn": ARN,
                "JobDurationInSeconds": 7200,
                "EndpointConfigurations": [
                    {
                        "InstanceType": t,
                        "EnvironmentParameterRanges": {
                            "CategoricalParameterRanges": [{"Name": "OMP_NUM_THREADS", "Value": ["1", "2"]}]
                        },
                    }
                    for t in ("ml.c5.large", "ml.c6i.large")
                ],
                "TrafficPattern": {
                    "TrafficType": "PHASES",
                    # Two new users a second, in the API's unit (users per minute).
                    "Phases": [{"InitialNumberOfUsers": 1, "SpawnRate": 120, "DurationInSeconds": 120}],
                },
                "ResourceLimit": {"MaxNumberOfTests": 4, "MaxParallelOfTests": 4},
            },
            # P95 only for a custom load test; no fleet-wide MaxInvocations for one endpoint under test.
            "StoppingConditions": {"ModelLatencyThresholds": [{"Percentile": "P95", "ValueInMilliseconds": 20}]},
        },
    )
    stub.add_response("describe_inference_recommendations_job", job_response("ir_job_advanced.json"))
    stub.add_response("get_scaling_configuration_recommendation", {})
    stub.add_response("update_model_package", {"ModelPackageArn": ARN})
    lineage(stub, name)
    decision, _ = _run(sm, args(tmp_path, "Advanced"))
    assert decision.choice.environment == {"OMP_NUM_THREADS": "2"}


def test_failed_job_ends_the_step_with_its_reason(sm, tmp_path):
    stub = sm.stub
    stub.add_response("describe_model_package", package())
    failed = job_response(
        "ir_job_default.json",
        Status="FAILED",
        InferenceRecommendations=[],
        FailureReason="Endpoint creation failed: ResourceLimitExceeded for ml.c6i.large",
    )
    stub.add_response("describe_inference_recommendations_job", failed)
    stub.add_response("describe_inference_recommendations_job", failed)
    with pytest.raises(ir_job.JobFailed, match="FAILED: Endpoint creation failed: ResourceLimitExceeded"):
        _run(sm, args(tmp_path))
    assert not (tmp_path / "out" / "results.json").exists()


def test_overrunning_job_is_stopped(sm, tmp_path):
    name = "rtb-bid-filter-v3-default"
    stub = sm.stub
    stub.add_response("describe_model_package", package())
    running = job_response("ir_job_default.json", Status="IN_PROGRESS", InferenceRecommendations=[])
    stub.add_response("describe_inference_recommendations_job", running)
    stub.add_response("describe_inference_recommendations_job", running)
    steps(stub, name, 0, 5)
    stub.add_response("describe_inference_recommendations_job", running)
    steps(stub, name, 1, 5)
    stub.add_response("stop_inference_recommendations_job", {}, {"JobName": name})
    ticks = iter([0.0, 0.0, 5000.0])
    a = args(tmp_path, duration=60)
    spec_wait = ir_job.wait

    def fake_wait(sm_, spec, out, sleep):
        return spec_wait(sm_, spec, out, clock=lambda: next(ticks), sleep=sleep)

    recommend.ir_job.wait, original = fake_wait, ir_job.wait
    try:
        with pytest.raises(ir_job.JobFailed, match="overran its 60 s duration .* it was stopped"):
            _run(sm, a)
    finally:
        recommend.ir_job.wait = original


def test_job_name_fits_the_api_limit():
    name = ir_job.job_name("g" * 63, 12345, "Advanced")
    assert len(name) <= 64 and name.endswith("-v12345-advanced")


def followed_job(sm, captured: dict) -> None:
    """A retried step following its completed job to the metadata write."""
    sm.meta.events.register(
        "before-parameter-build.sagemaker.UpdateModelPackage", lambda params, **_: captured.update(params)
    )
    sm.stub.add_response("describe_model_package", package())
    sm.stub.add_response("describe_inference_recommendations_job", job_response("ir_job_default.json"))
    sm.stub.add_response("describe_inference_recommendations_job", job_response("ir_job_default.json"))
    sm.stub.add_response("get_scaling_configuration_recommendation", {})
    sm.stub.add_response("update_model_package", {"ModelPackageArn": ARN})
    lineage(sm.stub, "rtb-bid-filter-v3-default")


def test_a_plan_above_the_account_s_instance_quota_fails_the_gate(sm, tmp_path):
    followed_job(sm, {})
    decision, printed = _run(sm, args(tmp_path), sq=service_quotas(20.0))
    assert not decision.passed
    assert decision.reason == (
        "peak load needs 92 x ml.c6i.large, above the account's quota 'ml.c6i.large for endpoint usage' of 20;"
        " request an increase in Service Quotas"
    )
    assert "gate: failed" in printed


def test_autoscaling_is_planned_within_the_quota(sm, tmp_path):
    captured: dict = {}
    followed_job(sm, captured)
    decision, _ = _run(sm, args(tmp_path), sq=service_quotas(100.0))
    assert decision.passed, decision.reason
    rec = Recommendation.from_properties(ARN, captured["CustomerMetadataProperties"])
    assert (rec.recommended_instance_count, rec.max_instance_count) == (92, 100)


def test_an_unreadable_quota_fails_the_gate_saying_why(sm, tmp_path):
    followed_job(sm, {})
    sq = boto3.client("service-quotas", region_name="us-east-1")
    stub = Stubber(sq)
    stub.add_client_error("list_service_quotas", "AccessDeniedException", "not authorized", 400)
    stub.activate()
    decision, _ = _run(sm, args(tmp_path), sq=sq)
    assert not decision.passed
    assert decision.reason == (
        "the plan could not be checked against the account's quota 'ml.c6i.large for endpoint usage':"
        " Service Quotas answered AccessDeniedException"
    )


def test_usable_types_come_from_the_account_not_the_image_s_botocore(sm, tmp_path, monkeypatch):
    """The scikit-learn 1.4-2 image's botocore predates ml.c6i.*: its list must not drop them."""
    monkeypatch.setattr(recommend, "realtime_instance_types", lambda: frozenset({"ml.m5.large", "ml.c5.large"}))
    followed_job(sm, {})
    decision, _ = _run(sm, args(tmp_path))
    assert decision.passed and decision.choice.instance_type == "ml.c6i.large"


def two_specification_run(sm, tmp_path, parity: dict | None):
    """A package with the fast image beside the stock one; the Default job benchmarks both."""
    name = "rtb-bid-filter-v3-default"
    fast = {"Name": "rtb-mlops-fast", "Containers": [{"Image": "111122223333.dkr.ecr.us-east-1.amazonaws.com/rtb-mlops-serving:v1", "ModelDataUrl": "s3://bucket/inputs/abc/model.tar.gz"}]}  # fmt: skip
    stub = sm.stub
    stub.add_response("describe_model_package", package() | {"AdditionalInferenceSpecifications": [fast]})
    not_found(stub, name)
    configs = [{"InstanceType": t} for t in ("ml.c5.large", "ml.c6i.large")]
    configs += [{"InstanceType": t, "InferenceSpecificationName": "rtb-mlops-fast"} for t in ("ml.c5.large", "ml.c6i.large")]  # fmt: skip
    default_job_created(stub, name, {"EndpointConfigurations": configs})
    job_arn = f"arn:aws:sagemaker:us-east-1:111122223333:inference-recommendations-job/{name}"
    job = job_response("ir_job_two_specifications.json", JobName=name, JobArn=job_arn)
    job["InputConfig"]["ModelPackageVersionArn"] = ARN
    stub.add_response("describe_inference_recommendations_job", job)
    stub.add_response("get_scaling_configuration_recommendation", {})
    stub.add_response("update_model_package", {"ModelPackageArn": ARN})
    lineage(stub, name)
    a = args(tmp_path)
    if parity is not None:
        (tmp_path / "parity").mkdir()
        (tmp_path / "parity" / "parity.json").write_text(json.dumps(parity))
        a.parity_dir = tmp_path / "parity"
    captured = {}
    sm.meta.events.register(
        "before-parameter-build.sagemaker.UpdateModelPackage", lambda params, **_: captured.update(params)
    )
    decision, printed = _run(sm, a)
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    return decision, results, captured["CustomerMetadataProperties"], printed


def test_the_job_benchmarks_both_specifications_and_the_fast_one_is_chosen(sm, tmp_path):
    decision, results, metadata, printed = two_specification_run(
        sm, tmp_path, {"passed": True, "rows_checked": 1100, "max_abs_diff": 1.2e-7, "reason": "", "worst_rows": []}
    )
    assert (decision.choice.container, decision.choice.instance_type) == ("rtb-mlops-fast", "ml.c6i.large")
    assert metadata["inference_specification_name"] == "rtb-mlops-fast"
    assert results["choice"]["inference_specification_name"] == "rtb-mlops-fast"
    containers = {c["container"]: c for c in results["containers"]["items"]}
    assert containers["stock-xgboost"]["best_instance_type"] == "ml.c6i.large"
    assert results["containers"]["stock_cost_over_chosen"] == pytest.approx(1260000 / 104000, rel=1e-3)
    assert "rtb-mlops-fast  ml.c6i.large" in printed


def test_a_parity_mismatch_drops_the_fast_specification_with_the_reason(sm, tmp_path):
    mismatch = {
        "passed": False,
        "rows_checked": 1100,
        "max_abs_diff": 0.031,
        "reason": "row 7 differs",
        "worst_rows": [],
    }
    decision, results, metadata, _ = two_specification_run(sm, tmp_path, mismatch)
    assert decision.choice.container == "stock-xgboost" and metadata["inference_specification_name"] == "-"
    fast = [c for c in results["candidates"]["items"] if c["container"] == "rtb-mlops-fast"]
    assert len(fast) == 3 and all(c["excluded_reason"].startswith("parity gate failed: row 7 differs") for c in fast)
    assert "rtb-mlops-fast set aside: parity gate failed: row 7 differs" in results["gate"]["reason"]
    assert results["containers"]["stock_cost_over_chosen"] == 1.0
