"""CodePipeline executions in the emulator (moto keeps the declarations): V2 variables, the
structure CodePipeline refuses, and how several executions pass a stage held by a manual
approval in QUEUED and PARALLEL modes (SUPERSEDED runs in tests/integration/test_codepipeline.py)."""

from __future__ import annotations

import io
import json
import time
import zipfile

import boto3
import pytest

from emulator.clock import Clock
from emulator.codebuild.builds import CodeBuild
from emulator.codepipeline.engine import PipelineRuns
from emulator.codepipeline.models import Unresolved, resolve
from emulator.codepipeline.responses import CodePipelineApi, check_declaration
from emulator.context import Context
from emulator.protocol import ApiError

REGION = "us-east-1"
BUCKET = "cp-unit"
SOURCE = {"category": "Source", "owner": "AWS", "provider": "S3", "version": "1"}
MANUAL = {"category": "Approval", "owner": "AWS", "provider": "Manual", "version": "1"}


def declaration(name: str, mode: str = "SUPERSEDED", kind: str = "V2") -> dict:
    return {
        "name": name,
        "roleArn": f"arn:aws:iam::123456789012:role/{name}",
        "artifactStore": {"type": "S3", "location": BUCKET},
        "pipelineType": kind,
        "executionMode": mode,
        "variables": [{"name": "Version", "defaultValue": "v0"}],
        "stages": [
            {
                "name": "Source",
                "actions": [
                    {
                        "name": "Source",
                        "actionTypeId": SOURCE,
                        "outputArtifacts": [{"name": "Src"}],
                        "configuration": {"S3Bucket": BUCKET, "S3ObjectKey": "source.zip"},
                    }
                ],
            },
            {"name": "Approve", "actions": [{"name": "Promote", "actionTypeId": MANUAL, "configuration": {}}]},
        ],
    }


@pytest.fixture
def api(moto_aws, tmp_path):
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("README", "x")
    s3.put_object(Bucket=BUCKET, Key="source.zip", Body=buf.getvalue())
    ctx = Context(url="http://127.0.0.1:1", region=REGION, work_dir=tmp_path)
    runs = PipelineRuns(ctx, CodeBuild(ctx), Clock())
    yield CodePipelineApi(runs)
    runs.shutdown()


def create(api: CodePipelineApi, pipeline: dict) -> None:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "codepipeline.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "*"}],
    }
    iam = boto3.client("iam", region_name=REGION)
    iam.create_role(RoleName=pipeline["name"], AssumeRolePolicyDocument=json.dumps(trust))
    iam.put_role_policy(RoleName=pipeline["name"], PolicyName="p", PolicyDocument=json.dumps(policy))
    api.create_pipeline({"pipeline": pipeline})


def status(api: CodePipelineApi, name: str, execution_id: str) -> str:
    found = api.get_pipeline_execution({"pipelineName": name, "pipelineExecutionId": execution_id})
    return found["pipelineExecution"]["status"]


def wait(condition, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def at_approval(api: CodePipelineApi, name: str) -> tuple[str, str]:
    """(execution id, token) of the execution waiting at the approval, once there is one."""
    found: list[tuple[str, str]] = []

    def there() -> bool:
        state = api.get_pipeline_state({"name": name})["stageStates"][1]
        token = state["actionStates"][0].get("latestExecution", {}).get("token")
        if token:
            found.append((state["latestExecution"]["pipelineExecutionId"], token))
        return bool(token)

    wait(there)
    return found[-1]


def approve(api: CodePipelineApi, name: str, token: str, status: str = "Approved") -> None:
    api.put_approval_result(
        {
            "pipelineName": name,
            "stageName": "Approve",
            "actionName": "Promote",
            "result": {"summary": "ok", "status": status},
            "token": token,
        }
    )


def start(api: CodePipelineApi, name: str, version: str) -> str:
    return api.start_pipeline_execution({"name": name, "variables": [{"name": "Version", "value": version}]})[
        "pipelineExecutionId"
    ]


def test_queued_executions_wait_in_order_and_none_is_superseded(api):
    create(api, declaration("queued", "QUEUED"))
    created, token = at_approval(api, "queued")
    second, third = start(api, "queued", "v1"), start(api, "queued", "v2")
    wait(lambda: len(api.get_pipeline_state({"name": "queued"})["stageStates"][1].get("inboundExecutions", [])) == 2)
    assert status(api, "queued", second) == status(api, "queued", third) == "InProgress"
    approve(api, "queued", token)
    assert at_approval(api, "queued")[0] == second  # the older first
    wait(lambda: status(api, "queued", created) == "Succeeded")
    assert status(api, "queued", third) == "InProgress"


def test_parallel_executions_do_not_wait_for_each_other(api):
    create(api, declaration("parallel", "PARALLEL"))
    created, _ = at_approval(api, "parallel")
    second = start(api, "parallel", "v1")
    wait(
        lambda: any(
            r["actionName"] == "Promote" and r["status"] == "InProgress"
            for r in api.list_action_executions(
                {"pipelineName": "parallel", "filter": {"pipelineExecutionId": second}}
            )["actionExecutionDetails"]
        )
    )
    assert status(api, "parallel", created) == "InProgress"


def test_a_rejection_fails_the_execution_naming_the_summary(api):
    create(api, declaration("rejected"))
    created, token = at_approval(api, "rejected")
    approve(api, "rejected", token, "Rejected")
    wait(lambda: status(api, "rejected", created) == "Failed")
    latest = api.get_pipeline_state({"name": "rejected"})["stageStates"][1]["actionStates"][0]["latestExecution"]
    assert latest["status"] == "Failed" and latest["summary"] == "ok"
    with pytest.raises(ApiError) as err:
        approve(api, "rejected", token)
    assert err.value.code == "ApprovalAlreadyCompletedException"


def test_the_source_action_outputs_the_object_into_the_artifact_store_with_its_version(api):
    create(api, declaration("source"))
    created, _ = at_approval(api, "source")
    runs = api.list_action_executions({"pipelineName": "source", "filter": {"pipelineExecutionId": created}})
    source = next(r for r in runs["actionExecutionDetails"] if r["actionName"] == "Source")
    location = source["output"]["outputArtifacts"][0]["s3location"]
    assert location["bucket"] == BUCKET and location["key"].startswith("source/Src/")
    assert set(source["output"]["outputVariables"]) == {"ETag", "VersionId"}


def test_variables_must_be_declared_given_to_v2_and_have_a_value(api):
    create(api, declaration("vars"))
    with pytest.raises(ApiError, match="Variable Other is not declared"):
        api.start_pipeline_execution({"name": "vars", "variables": [{"name": "Other", "value": "x"}]})
    v1 = declaration("v1", kind="V1")
    v1.pop("variables")
    create(api, v1)
    with pytest.raises(ApiError, match="only be passed to a V2 pipeline"):
        start(api, "v1", "x")


def test_references_resolve_from_their_namespace_or_fail():
    scope = {"variables": {"Version": "v2"}, "Build": {"ARN": "a:b"}}
    assert resolve("#{variables.Version} at #{Build.ARN}", scope) == "v2 at a:b"
    with pytest.raises(Unresolved, match="#{variables.Missing}"):
        resolve("#{variables.Missing}", scope)


@pytest.mark.parametrize(
    ("change", "code", "message"),
    [
        (lambda p: p["stages"].pop(), "InvalidStructureException", "minimum of 2 stages"),
        (lambda p: p["stages"].reverse(), "InvalidStructureException", "first stage must contain only source"),
        (
            lambda p: p["stages"][1]["actions"][0].update(inputArtifacts=[{"name": "Nope"}]),
            "InvalidStructureException",
            "Nope of action Promote are not the output",
        ),
        (lambda p: p.update(pipelineType="V1"), "ValidationException", "need pipelineType V2"),
    ],
)
def test_declarations_codepipeline_refuses(change, code, message):
    pipeline = declaration("x")
    change(pipeline)
    with pytest.raises(ApiError, match=message) as err:
        check_declaration(pipeline)
    assert err.value.code == code


def test_an_eventbridge_target_starts_the_pipeline_only_as_a_role_allowed_to(api):
    create(api, declaration("evented"))
    iam = boto3.client("iam", region_name=REGION)
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    arn = "arn:aws:codepipeline:us-east-1:123456789012:evented"
    allowed = {"Effect": "Allow", "Action": "codepipeline:StartPipelineExecution", "Resource": arn}
    for name, statements in (("events-ok", [allowed]), ("events-other", [{**allowed, "Resource": arn + "-other"}])):
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
        iam.put_role_policy(
            RoleName=name, PolicyName="p", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements})
        )
    assert not api.runs.event(arn, "arn:aws:iam::123456789012:role/events-other", {"id": "e0"})
    assert api.runs.event(arn, "arn:aws:iam::123456789012:role/events-ok", {"id": "e1"})
    triggers = [
        e["trigger"] for e in api.list_pipeline_executions({"pipelineName": "evented"})["pipelineExecutionSummaries"]
    ]
    assert triggers[0] == {"triggerType": "CloudWatchEvent", "triggerDetail": "e1"}
    assert [t["triggerType"] for t in triggers[1:]] == ["CreatePipeline"]


def test_stop_and_abandon_ends_an_execution_waiting_at_the_approval(api):
    create(api, declaration("stopped"))
    created, _ = at_approval(api, "stopped")
    api.stop_pipeline_execution(
        {"pipelineName": "stopped", "pipelineExecutionId": created, "abandon": True, "reason": "wrong version"}
    )
    wait(lambda: status(api, "stopped", created) == "Stopped")
    latest = api.get_pipeline_state({"name": "stopped"})["stageStates"][1]["actionStates"][0]["latestExecution"]
    assert latest["status"] == "Abandoned"
    with pytest.raises(ApiError) as err:
        api.stop_pipeline_execution({"pipelineName": "stopped", "pipelineExecutionId": created})
    assert err.value.code == "PipelineExecutionNotStoppableException"
