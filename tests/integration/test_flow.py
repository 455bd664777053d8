"""The whole flow on the emulator: pipeline, recommender, gate, approval event, Lambda,
endpoint, invocation. Each test has its own group, pipeline and endpoint."""

from __future__ import annotations

import io
import json
import re
import time
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError

from model_registry import packages
from pipelines import runner
from pipelines.commands.invoke import invoke
from pipelines.config import load_config
from pipelines.local_run import LOCAL_OVERRIDES, endpoint_ready, prepare_account, run_pipeline
from tests.integration.conftest import CONFIG

pytestmark = pytest.mark.integration


def config(name: str, *overrides: str, example_model=None):
    names = [f"deploy.endpoint_name={name}", f"registry.model_package_group={name}", f"pipeline.name={name}"]
    # Its own execution role too: the role template grants on one model package group.
    names.append(f"aws.role_arn=arn:aws:iam::123456789012:role/rtb-mlops-{name}")
    inputs = []
    if example_model is not None:
        inputs = [f"model.artifact={example_model.model_path}", f"model.sample_payload={example_model.payload_path}"]
    return load_config(CONFIG, [*LOCAL_OVERRIDES, *names, *inputs, "approval.mode=auto", *overrides], environ={})


def sm():
    return boto3.client("sagemaker", region_name="us-east-1")


def lambda_lines(function: str, *fragments: str) -> list[str]:
    """The deploy Lambda's log lines (CloudWatch Logs, as on AWS) holding every fragment."""
    logs = boto3.client("logs")
    group = f"/aws/lambda/{function}"
    if not logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]:
        return []
    pages = logs.get_paginator("filter_log_events").paginate(logGroupName=group)
    return [e["message"] for page in pages for e in page["events"] if all(f in e["message"] for f in fragments)]


def duplicate_lines(function: str, package_arn: str) -> list[str]:
    """The deploy Lambda's log lines saying an approval left the endpoint as it was. (A duplicate
    that runs beside the InService event's autoscaling may say "autoscaling corrected" instead of
    "already serving": deploys are no longer serialised by reserved concurrency.)"""
    return lambda_lines(function, '"done"', '"action": "unchanged"', package_arn)


def steps_of(execution) -> dict[str, str]:
    return {s.name: s.status for s in execution.steps}


def test_auto_approval_deploys_an_autoscaled_endpoint_that_answers(auto_flow):
    _, execution, results, endpoint = auto_flow
    assert steps_of(execution) == {"RegisterModel": "Succeeded", "Parity": "Succeeded", "Recommend": "Succeeded",
                                   "ApprovalGate": "Succeeded", "ApprovalMode": "Succeeded", "Approve": "Succeeded"}  # fmt: skip
    assert results["gate"]["passed"] and results["candidates"]["within_sla"] >= 1
    package = packages.describe(sm(), packages.latest_approved(sm(), "flow-auto").arn)
    assert endpoint["EndpointConfigName"] == "flow-auto-flow-auto-v1"
    assert package.customer_metadata["gate_decision"] == "passed"
    assert package.customer_metadata["recommended_instance_type"] == results["choice"]["instance_type"]
    # The stock container answers "a,b", serving/ one score a line: either is two scores.
    scores = re.split(r"[,\s]+", invoke("flow-auto", b"4,7,0,0,0,39,1\n6,20,4,90,0,1,4").strip())
    assert len(scores) == 2 and all(0 <= float(s) <= 1 for s in scores)


def test_recommender_answers_in_the_api_shape_with_measured_figures(auto_flow):
    cfg = auto_flow[0]
    client = sm()
    job = client.describe_inference_recommendations_job(JobName="flow-auto-v1-default")
    assert job["Status"] == "COMPLETED"
    measured = job["EndpointPerformances"][0]
    assert measured["EndpointInfo"]["EndpointName"].startswith("measured-on-this-machine")
    assert measured["Metrics"]["MaxInvocations"] > 1000
    for rec in job["InferenceRecommendations"]:
        assert rec["EndpointConfiguration"]["EndpointName"].startswith("projection-")
    steps = client.list_inference_recommendations_job_steps(JobName="flow-auto-v1-default")["Steps"]
    assert steps and all(s["Status"] == "COMPLETED" for s in steps)
    report_key = "rtb-mlops-emulator/inference-recommender/flow-auto-v1-default/measurements.json"
    report = json.loads(boto3.client("s3").get_object(Bucket=cfg.aws.bucket, Key=report_key)["Body"].read())
    levels = report["measurements"][0]["levels"]
    assert sum(lv["seconds"] for lv in levels) >= 1.5 and all("P99" in lv for lv in levels)


def test_both_containers_are_measured_and_the_parity_verdict_decides_whether_the_fast_one_competes(auto_flow):
    cfg, execution, results, endpoint = auto_flow
    client = sm()
    job = client.describe_inference_recommendations_job(JobName="flow-auto-v1-default")
    served = {
        m.get("InferenceSpecificationName", "")
        for m in (r["ModelConfiguration"] for r in job["InferenceRecommendations"])
    }
    assert served == {"", "rtb-mlops-fast"}
    report_key = "rtb-mlops-emulator/inference-recommender/flow-auto-v1-default/measurements.json"
    report = json.loads(boto3.client("s3").get_object(Bucket=cfg.aws.bucket, Key=report_key)["Body"].read())
    assert {m["server"] for m in report["measurements"]} == {"stock-xgboost", "serving"}
    verdict_key = f"{cfg.aws.prefix}/executions/{execution.arn.rsplit('/', 1)[-1]}/parity/parity.json"
    verdict = json.loads(boto3.client("s3").get_object(Bucket=cfg.aws.bucket, Key=verdict_key)["Body"].read())
    fast = [c for c in results["candidates"]["items"] if c["container"] == "rtb-mlops-fast"]
    if verdict["passed"]:
        # Measured side by side on this machine: the compiled server is far cheaper per inference.
        assert results["choice"]["container"] == "rtb-mlops-fast"
        ratio = results["containers"]["stock_cost_over_chosen"]
        stock = next(c for c in results["containers"]["items"] if c["container"] == "stock-xgboost")
        # On a busy machine the stock request path may hold nothing within the SLA: then no ratio.
        assert ratio >= 5 if stock["within_sla"] else ratio is None
    else:
        assert all(c["excluded_reason"].startswith("parity ") for c in fast)
        assert results["choice"]["container"] == "stock-xgboost"
    # The deployed model serves the chosen specification, by name.
    config = client.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    model = client.describe_model(ModelName=config["ProductionVariants"][0]["ModelName"])
    assert (
        model["PrimaryContainer"].get("InferenceSpecificationName", "")
        == results["choice"]["inference_specification_name"]
    )


def test_forged_metadata_is_refused_by_the_deployed_lambda(auto_flow):
    """An UpdateModelPackage edit after the gate, then the approval event again: nothing changes."""
    client = sm()
    package = packages.describe(client, packages.latest_approved(client, "flow-auto").arn)
    original = package.customer_metadata["environment"]
    modified = client.describe_endpoint(EndpointName="flow-auto")["LastModifiedTime"]
    packages.update_metadata(client, package.arn, {"environment": "SAGEMAKER_PROGRAM=evil.py"})
    try:
        detail = {"ModelPackageGroupName": "flow-auto", "ModelPackageVersion": package.version,
                  "ModelPackageArn": package.arn, "ModelApprovalStatus": "Approved"}  # fmt: skip
        entry = {"Source": "aws.sagemaker", "DetailType": "SageMaker Model Package State Change",
                 "Detail": json.dumps(detail), "Resources": [package.arn]}  # fmt: skip
        assert boto3.client("events").put_events(Entries=[entry])["FailedEntryCount"] == 0
        deadline = time.monotonic() + 60
        while not lambda_lines("flow-auto-deploy", '"not deployed"', "SAGEMAKER_PROGRAM is not a variable"):
            assert time.monotonic() < deadline, "the Lambda never logged the refusal"
            time.sleep(0.3)
        assert client.describe_endpoint(EndpointName="flow-auto")["LastModifiedTime"] == modified
    finally:
        packages.update_metadata(client, package.arn, {"environment": original})


def test_manual_approval_waits_for_a_person_then_deploys(emulator, example_model, capsys):
    from pipelines.cli import main

    cfg = config("flow-manual", "approval.mode=manual", example_model=example_model)
    prepare_account(cfg)
    execution, _ = run_pipeline(cfg, io.StringIO())
    assert execution.status == "Succeeded", execution.failure_reason
    assert "HoldForManualApproval" in steps_of(execution) and "Approve" not in steps_of(execution)
    version = packages.list_versions(sm(), "flow-manual")[0]
    assert version.approval_status == "PendingManualApproval"
    assert packages.describe(sm(), version.arn).customer_metadata["gate_decision"] == "passed"
    with pytest.raises(ClientError, match="Could not find endpoint"):
        sm().describe_endpoint(EndpointName="flow-manual")
    assert main(["registry", "approve", version.arn, "--description", "reviewed the load test: ok"]) == 0
    endpoint = endpoint_ready(cfg, io.StringIO())
    assert endpoint["EndpointConfigName"] == "flow-manual-flow-manual-v1"


def test_failed_gate_rejects_and_fails_the_execution_with_the_reason(emulator, example_model):
    cfg = config("flow-reject", "recommender.max_cost_per_inference=1e-15", example_model=example_model)
    prepare_account(cfg)
    execution, _ = run_pipeline(cfg, io.StringIO())
    assert execution.status == "Failed"
    assert execution.failure_reason.startswith("Approval gate failed: cost per inference")
    assert steps_of(execution)["Reject"] == "Succeeded" and steps_of(execution)["GateFailed"] == "Failed"
    version = packages.describe(sm(), packages.list_versions(sm(), "flow-reject")[0].arn)
    assert version.approval_status == "Rejected"
    assert version.approval_description.startswith("Rejected by the approval gate: cost per inference")
    assert version.customer_metadata["gate_decision"].startswith("failed: cost per inference")


def test_second_version_replaces_the_first_by_blue_green_and_duplicates_change_nothing(
    emulator, example_model, second_model
):
    cfg = config("flow-bluegreen", example_model=example_model)
    prepare_account(cfg)
    first = run_pipeline(cfg, io.StringIO())[0]
    assert first.status == "Succeeded", first.failure_reason
    endpoint_ready(cfg, io.StringIO())
    before = invoke("flow-bluegreen", b"4,7,0,0,0,39,1")
    second = config(
        "flow-bluegreen", f"model.artifact={second_model}", f"model.sample_payload={example_model.payload_path}"
    )
    upgraded = run_pipeline(second, io.StringIO())[0]
    assert upgraded.status == "Succeeded", upgraded.failure_reason
    client = sm()
    deadline = time.monotonic() + 120
    while (
        client.describe_endpoint(EndpointName="flow-bluegreen")["EndpointConfigName"]
        != "flow-bluegreen-flow-bluegreen-v2"
    ):
        assert invoke("flow-bluegreen", b"4,7,0,0,0,39,1")  # the old version serves throughout
        assert time.monotonic() < deadline, "v2 never took over"
        time.sleep(0.3)
    endpoint_ready(second, io.StringIO())
    assert invoke("flow-bluegreen", b"4,7,0,0,0,39,1") != before  # another model answers
    # The approval event again, twice: nothing new is made and the endpoint is untouched.
    v2 = client.describe_model_package(ModelPackageName=packages.latest_approved(client, "flow-bluegreen").arn)
    detail = {"ModelPackageGroupName": "flow-bluegreen", "ModelPackageVersion": 2, "ModelPackageArn": v2["ModelPackageArn"],
              "ModelApprovalStatus": "Approved", "ModelPackageStatus": "Completed", "CreationTime": 1764410400138}  # fmt: skip
    modified = client.describe_endpoint(EndpointName="flow-bluegreen")["LastModifiedTime"]
    seen = len(duplicate_lines("flow-bluegreen-deploy", v2["ModelPackageArn"]))
    events = boto3.client("events")
    for _ in range(2):
        entry = {"Source": "aws.sagemaker", "DetailType": "SageMaker Model Package State Change",
                 "Detail": json.dumps(detail), "Resources": [v2["ModelPackageArn"]]}  # fmt: skip
        assert events.put_events(Entries=[entry])["FailedEntryCount"] == 0
    deadline = time.monotonic() + 60
    while len(duplicate_lines("flow-bluegreen-deploy", v2["ModelPackageArn"])) < seen + 2:
        assert time.monotonic() < deadline, "no log of both duplicates:\n" + "\n".join(
            lambda_lines("flow-bluegreen-deploy")[-12:]
        )
        time.sleep(0.3)
    assert client.describe_endpoint(EndpointName="flow-bluegreen")["LastModifiedTime"] == modified
    configs = [c["EndpointConfigName"] for c in client.list_endpoint_configs()["EndpointConfigs"]]
    assert sorted(c for c in configs if c.startswith("flow-bluegreen")) == [
        "flow-bluegreen-flow-bluegreen-v1",
        "flow-bluegreen-flow-bluegreen-v2",
    ]
    dlq = boto3.client("sqs").get_queue_url(QueueName="flow-bluegreen-deploy-dlq")["QueueUrl"]
    assert "Messages" not in boto3.client("sqs").receive_message(QueueUrl=dlq, WaitTimeSeconds=0)


def test_stop_then_a_crashing_step_script(emulator, example_model):
    from pipelines import sdk_env
    from pipelines.launch import launch

    cfg = config("flow-crash", example_model=example_model)
    prepare_account(cfg)
    sdk_env.prepare(cfg.aws.region)
    launched = launch(cfg)
    client = sm()
    client.stop_pipeline_execution(PipelineExecutionArn=launched.execution_arn, ClientRequestToken=str(uuid.uuid4()))
    stopped = runner.wait(client, launched.execution_arn, out=io.StringIO(), poll_seconds=0.3)
    assert stopped.status == "Stopped"
    # Again, with a plan the step cannot make: the script raises, and says why.
    params = {"ModelArtifactUri": launched.inputs.artifact_uri, "SamplePayloadUri": launched.inputs.payload_uri,
              "ModelArtifactSha256": launched.inputs.sha256, "GoldenOutputsUri": launched.inputs.golden_uri,
              "GoldenOutputsSha256": launched.inputs.golden_sha256, "MinInstances": "9", "MaxInstances": "3"}  # fmt: skip
    arn = runner.start(client, "flow-crash", params, "crash")
    result = runner.wait(client, arn, out=io.StringIO(), poll_seconds=0.5)
    assert result.status == "Failed"
    recommend = next(s for s in result.steps if s.name == "Recommend")
    assert recommend.status == "Failed"
    assert "exited with status 1" in recommend.failure_reason
    assert "max_instances must be >= min_instances" in recommend.failure_reason
    assert "Recommend" in result.failure_reason or "max_instances" in result.failure_reason
