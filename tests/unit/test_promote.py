"""`rtb-mlops promote` against botocore Stubber, with GetPipelineExecution, GetPipelineState and
PutApprovalResult in the CodePipeline API reference's shapes: it answers the approval of the
execution named, for the package it carries, and no other."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
import pytest
from botocore.stub import Stubber

from model_registry import aws
from pipelines.cli import main

PIPELINE = "rtb-bid-filter-model-deploy"
FIRST, SECOND = "3137f7cb-7cf7-4aee-a7d8-6b57d0c11a24", "5a8e4b2d-0c11-4f9e-9a41-2f9e8c7d6b10"
TOKEN = "1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d"
NOW = datetime(2026, 11, 30, 13, 0, tzinfo=UTC)
ARN = "arn:aws:sagemaker:us-east-1:111122223333:model-package/rtb-bid-filter/{}"


def execution(execution_id: str, version: int, status: str = "InProgress") -> dict:
    return {
        "pipelineExecution": {
            "pipelineName": PIPELINE,
            "pipelineVersion": 1,
            "pipelineExecutionId": execution_id,
            "status": status,
            "variables": [{"name": "ModelPackageArn", "resolvedValue": ARN.format(version)}],
            "executionMode": "QUEUED",
            "executionType": "STANDARD",
            "trigger": {"triggerType": "StartPipelineExecution", "triggerDetail": "arn:aws:sts::111122223333:x"},
        }
    }


def state(waiting: str, queued: str | None = None) -> dict:
    """The first execution holds the Staging stage at its approval; a second one may queue behind it."""
    staging = {
        "stageName": "Staging",
        "latestExecution": {"pipelineExecutionId": waiting, "status": "InProgress"},
        "actionStates": [
            {"actionName": "DeployStaging", "latestExecution": {"status": "Succeeded", "lastStatusChange": NOW}},
            {"actionName": "GoldenCheck", "latestExecution": {"status": "Succeeded", "lastStatusChange": NOW}},
            {"actionName": "LoadTest", "latestExecution": {"status": "Succeeded", "lastStatusChange": NOW}},
            {"actionName": "ApproveProduction",
             "latestExecution": {"actionExecutionId": "c0ffee00-0000-4000-8000-000000000001", "status": "InProgress",
                                 "lastStatusChange": NOW, "token": TOKEN}},
        ],
    }  # fmt: skip
    if queued:
        staging["inboundExecutions"] = [{"pipelineExecutionId": queued, "status": "InProgress", "type": "STANDARD"}]
    return {
        "pipelineName": PIPELINE,
        "pipelineVersion": 1,
        "stageStates": [
            {"stageName": "Source", "latestExecution": {"pipelineExecutionId": queued or waiting, "status": "Succeeded"},
             "actionStates": [{"actionName": "Source", "latestExecution": {"status": "Succeeded"}}]},
            staging,
            {"stageName": "Production", "actionStates": [{"actionName": "DeployProduction"}, {"actionName": "Audit"}]},
        ],
        "created": NOW,
        "updated": NOW,
    }  # fmt: skip


@pytest.fixture
def codepipeline(monkeypatch):
    cp = boto3.client("codepipeline", region_name="us-east-1")
    monkeypatch.setattr(aws, "client", lambda service, region=None, credentials=None: cp)
    with Stubber(cp) as stub:
        yield stub
        stub.assert_no_pending_responses()


def test_approve_answers_the_executions_own_approval(codepipeline, capsys):
    codepipeline.add_response("get_pipeline_execution", execution(FIRST, 3),
                              {"pipelineName": PIPELINE, "pipelineExecutionId": FIRST})  # fmt: skip
    codepipeline.add_response("get_pipeline_state", state(FIRST, queued=SECOND), {"name": PIPELINE})
    codepipeline.add_response(
        "put_approval_result",
        {"approvedAt": NOW},
        {"pipelineName": PIPELINE, "stageName": "Staging", "actionName": "ApproveProduction", "token": TOKEN,
         "result": {"summary": "load test and golden check reviewed", "status": "Approved"}},
    )  # fmt: skip
    args = ["promote", "--approve", FIRST, "--model-package-arn", ARN.format(3)]
    assert main([*args, "--summary", "load test and golden check reviewed"]) == 0
    assert f"ApproveProduction approved for {ARN.format(3)}" in capsys.readouterr().out


def test_the_queued_second_approval_cannot_be_promoted_while_the_first_holds_staging(codepipeline, capsys):
    codepipeline.add_response("get_pipeline_execution", execution(SECOND, 4))
    codepipeline.add_response("get_pipeline_state", state(FIRST, queued=SECOND))
    assert main(["promote", "--approve", SECOND]) == 2
    err = capsys.readouterr().err
    assert f"{SECOND} is not waiting for approval (Staging.ApproveProduction waits for execution {FIRST})" in err


def test_another_package_than_the_one_named_is_refused_before_any_answer(codepipeline, capsys):
    codepipeline.add_response("get_pipeline_execution", execution(FIRST, 3))
    assert main(["promote", "--approve", FIRST, "--model-package-arn", ARN.format(4)]) == 2
    assert f"carries {ARN.format(3)}, not {ARN.format(4)}" in capsys.readouterr().err


def test_reject_and_a_finished_execution(codepipeline, capsys):
    codepipeline.add_response("get_pipeline_execution", execution(FIRST, 3))
    codepipeline.add_response("get_pipeline_state", state(FIRST))
    codepipeline.add_response("put_approval_result", {"approvedAt": NOW}, {
        "pipelineName": PIPELINE, "stageName": "Staging", "actionName": "ApproveProduction", "token": TOKEN,
        "result": {"summary": "rejected with rtb-mlops promote", "status": "Rejected"}})  # fmt: skip
    assert main(["promote", "--reject", FIRST]) == 0
    codepipeline.add_response("get_pipeline_execution", execution(FIRST, 3, status="Failed"))
    assert main(["promote", "--approve", FIRST]) == 2
    assert "is Failed, not InProgress" in capsys.readouterr().err
