"""CodePipeline and CodeBuild running in the emulator: a V2 pipeline deployed by CloudFormation,
its CodeBuild actions running a buildspec with the pipeline's variables, a manual approval
approved and rejected through PutApprovalResult, a failing build stopping the execution, newer
executions superseding a waiting one (never the one at the approval), and the pipeline's role
held to what it is allowed."""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Callable
from typing import Any

import pytest
import yaml
from botocore.exceptions import ClientError

from model_registry.aws import client

pytestmark = pytest.mark.integration
REGION = "us-east-1"
BUCKET = "rtb-mlops-cp-test"
BUILDSPEC = """version: 0.2
env:
  exported-variables: [DEPLOYED]
phases:
  build:
    commands:
      - echo "stage=$STAGE version=$VERSION"
      - if [ "$FAIL" = yes ]; then echo failing on purpose; exit 1; fi
      - export DEPLOYED=$VERSION
artifacts:
  # Only an action that declares an output artifact uploads them (none here).
  files: ['report/**/*']
"""


def _env(**values: str) -> str:
    return json.dumps([{"name": k, "value": v, "type": "PLAINTEXT"} for k, v in values.items()])


def template(name: str, build_actions: list[str]) -> str:
    """A stack with a CodeBuild project, its role, and a V2 pipeline Source → Build → Approve →
    Deploy whose role may do `build_actions` on the project."""
    codebuild = {"Category": "Build", "Owner": "AWS", "Provider": "CodeBuild", "Version": "1"}
    resources: dict[str, Any] = {
        "BuildRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "RoleName": f"{name}-build",
                "AssumeRolePolicyDocument": _trust("codebuild.amazonaws.com"),
                "Policies": [_policy(
                    {"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                     "Resource": f"arn:aws:logs:{REGION}:123456789012:log-group:/aws/codebuild/{name}:*"},
                    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/*"},
                )],
            },
        },
        "PipelineRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "RoleName": f"{name}-pipeline",
                "AssumeRolePolicyDocument": _trust("codepipeline.amazonaws.com"),
                "Policies": [_policy(
                    {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": f"arn:aws:s3:::{BUCKET}/*"},
                    {"Effect": "Allow", "Action": build_actions, "Resource": {"Fn::GetAtt": ["Project", "Arn"]}},
                )],
            },
        },
        "Project": {
            "Type": "AWS::CodeBuild::Project",
            "Properties": {
                "Name": name,
                "ServiceRole": {"Fn::GetAtt": ["BuildRole", "Arn"]},
                "Source": {"Type": "CODEPIPELINE", "BuildSpec": BUILDSPEC},
                "Artifacts": {"Type": "CODEPIPELINE"},
                "Environment": {"Type": "LINUX_CONTAINER", "Image": "aws/codebuild/standard:7.0",
                                "ComputeType": "BUILD_GENERAL1_SMALL"},
                "TimeoutInMinutes": 5,
            },
        },
        "Pipeline": {
            "Type": "AWS::CodePipeline::Pipeline",
            "Properties": {
                "Name": name,
                "PipelineType": "V2",
                "ExecutionMode": "SUPERSEDED",
                "RoleArn": {"Fn::GetAtt": ["PipelineRole", "Arn"]},
                "ArtifactStore": {"Type": "S3", "Location": BUCKET},
                "Variables": [{"Name": "Version", "DefaultValue": "v0"}, {"Name": "Fail", "DefaultValue": "no"}],
                "Stages": [
                    {"Name": "Source", "Actions": [{
                        "Name": "Source", "OutputArtifacts": [{"Name": "Src"}],
                        "ActionTypeId": {"Category": "Source", "Owner": "AWS", "Provider": "S3", "Version": "1"},
                        "Configuration": {"S3Bucket": BUCKET, "S3ObjectKey": "source.zip", "PollForSourceChanges": False},
                    }]},
                    {"Name": "Build", "Actions": [{
                        "Name": "Check", "ActionTypeId": codebuild, "InputArtifacts": [{"Name": "Src"}],
                        "Configuration": {"ProjectName": {"Ref": "Project"},
                                          "EnvironmentVariables": _env(STAGE="check", VERSION="#{variables.Version}",
                                                                       FAIL="#{variables.Fail}")},
                    }]},
                    {"Name": "Approve", "Actions": [{
                        "Name": "Promote",
                        "ActionTypeId": {"Category": "Approval", "Owner": "AWS", "Provider": "Manual", "Version": "1"},
                        "Configuration": {"CustomData": "promote #{variables.Version}"},
                    }]},
                    {"Name": "Deploy", "Actions": [{
                        "Name": "Production", "ActionTypeId": codebuild, "InputArtifacts": [{"Name": "Src"}],
                        "Namespace": "Prod",
                        "Configuration": {"ProjectName": {"Ref": "Project"},
                                          "EnvironmentVariables": _env(STAGE="production",
                                                                       VERSION="#{variables.Version}")},
                    }]},
                ],
            },
        },
    }  # fmt: skip
    return yaml.safe_dump({"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources})


def _trust(service: str) -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
    }


def _policy(*statements: dict) -> dict:
    return {"PolicyName": "inline", "PolicyDocument": {"Version": "2012-10-17", "Statement": list(statements)}}


def deploy(name: str, build_actions: list[str]) -> Any:
    s3 = client("s3", REGION)
    try:
        s3.head_bucket(Bucket=BUCKET)
    except ClientError:
        s3.create_bucket(Bucket=BUCKET)
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("README", "source")
        s3.put_object(Bucket=BUCKET, Key="source.zip", Body=buf.getvalue())
    cfn = client("cloudformation", REGION)
    cfn.create_stack(StackName=name, TemplateBody=template(name, build_actions), Capabilities=["CAPABILITY_NAMED_IAM"])
    status = cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
    assert status == "CREATE_COMPLETE", cfn.describe_stack_events(StackName=name)["StackEvents"][:3]
    return client("codepipeline", REGION)


def wait_for(what: str, probe: Callable[[], Any], timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def status(cp: Any, name: str, execution_id: str) -> str:
    return cp.get_pipeline_execution(pipelineName=name, pipelineExecutionId=execution_id)["pipelineExecution"]["status"]


def approval(cp: Any, name: str) -> dict:
    stage = next(s for s in cp.get_pipeline_state(name=name)["stageStates"] if s["stageName"] == "Approve")
    return stage


def waiting_approval(cp: Any, name: str, execution_id: str) -> str:
    """The approval's token once `execution_id` waits at it."""

    def token() -> str | None:
        stage = approval(cp, name)
        latest = stage["actionStates"][0].get("latestExecution", {})
        if stage.get("latestExecution", {}).get("pipelineExecutionId") == execution_id and latest.get("token"):
            return latest["token"]
        return None

    return wait_for(f"{execution_id} at the approval", token)


def build_log(build_id: str) -> list[str]:
    build = client("codebuild", REGION).batch_get_builds(ids=[build_id])["builds"][0]
    events = client("logs", REGION).get_log_events(
        logGroupName=build["logs"]["groupName"], logStreamName=build["logs"]["streamName"]
    )["events"]
    return [e["message"] for e in events]


def test_superseded_executions_wait_a_rejection_stops_one_and_the_approved_version_is_the_one_deployed(emulator):
    name = "rtb-mlops-cp-flow"
    cp = deploy(name, ["codebuild:StartBuild", "codebuild:BatchGetBuilds"])
    # Creating the pipeline started it, with the variables' defaults, as CodePipeline does.
    first = wait_for(
        "the creation's execution", lambda: cp.list_pipeline_executions(pipelineName=name)["pipelineExecutionSummaries"]
    )[-1]
    assert first["trigger"]["triggerType"] == "CreatePipeline"
    first_token = waiting_approval(cp, name, first["pipelineExecutionId"])

    second = cp.start_pipeline_execution(name=name, variables=[{"name": "Version", "value": "v1"}])
    wait_for(
        "v1 in front of the approval",
        lambda: (
            approval(cp, name).get("inboundExecution", {}).get("pipelineExecutionId") == second["pipelineExecutionId"]
        ),
    )
    third = cp.start_pipeline_execution(name=name, variables=[{"name": "Version", "value": "v2"}])
    # The newer execution supersedes the one waiting between stages, not the one at the approval.
    wait_for("v1 superseded", lambda: status(cp, name, second["pipelineExecutionId"]) == "Superseded")
    assert approval(cp, name)["inboundExecution"]["pipelineExecutionId"] == third["pipelineExecutionId"]
    assert status(cp, name, first["pipelineExecutionId"]) == "InProgress"

    with pytest.raises(ClientError) as err:
        cp.put_approval_result(
            pipelineName=name,
            stageName="Approve",
            actionName="Promote",
            result={"summary": "x", "status": "Approved"},
            token="00000000-0000-0000-0000-000000000000",
        )
    assert err.value.response["Error"]["Code"] == "InvalidApprovalTokenException"
    cp.put_approval_result(
        pipelineName=name,
        stageName="Approve",
        actionName="Promote",
        result={"summary": "not this one", "status": "Rejected"},
        token=first_token,
    )
    wait_for("v0 failed", lambda: status(cp, name, first["pipelineExecutionId"]) == "Failed")

    third_token = waiting_approval(cp, name, third["pipelineExecutionId"])
    answer = cp.put_approval_result(
        pipelineName=name,
        stageName="Approve",
        actionName="Promote",
        result={"summary": "ship v2", "status": "Approved"},
        token=third_token,
    )
    assert "approvedAt" in answer
    wait_for("v2 succeeded", lambda: status(cp, name, third["pipelineExecutionId"]) == "Succeeded")

    execution = cp.get_pipeline_execution(pipelineName=name, pipelineExecutionId=third["pipelineExecutionId"])
    assert {"name": "Version", "resolvedValue": "v2"} in execution["pipelineExecution"]["variables"]
    runs = cp.list_action_executions(pipelineName=name, filter={"pipelineExecutionId": third["pipelineExecutionId"]})[
        "actionExecutionDetails"
    ]
    deploy_run = next(r for r in runs if r["actionName"] == "Production")
    assert json.loads(deploy_run["input"]["resolvedConfiguration"]["EnvironmentVariables"])[1] == {
        "name": "VERSION",
        "value": "v2",
        "type": "PLAINTEXT",
    }
    assert deploy_run["output"]["outputVariables"] == {"DEPLOYED": "v2"}
    assert "stage=production version=v2" in build_log(deploy_run["output"]["executionResult"]["externalExecutionId"])
    promote = next(r for r in runs if r["actionName"] == "Promote")
    assert promote["updatedBy"].startswith("arn:aws:iam::123456789012:user/")  # the person who approved

    # The rejected and the superseded executions never reached production.
    deployed = [
        r["pipelineExecutionId"]
        for r in cp.list_action_executions(pipelineName=name)["actionExecutionDetails"]
        if r["actionName"] == "Production"
    ]
    assert deployed == [third["pipelineExecutionId"]]
    statuses = {
        e["pipelineExecutionId"]: e["status"]
        for e in cp.list_pipeline_executions(pipelineName=name)["pipelineExecutionSummaries"]
    }
    assert statuses == {
        first["pipelineExecutionId"]: "Failed",
        second["pipelineExecutionId"]: "Superseded",
        third["pipelineExecutionId"]: "Succeeded",
    }

    # A failing build fails its stage and the execution; the approval is never reached.
    failing = cp.start_pipeline_execution(name=name, variables=[{"name": "Fail", "value": "yes"}])
    wait_for("the failing build", lambda: status(cp, name, failing["pipelineExecutionId"]) == "Failed")
    build_stage = next(s for s in cp.get_pipeline_state(name=name)["stageStates"] if s["stageName"] == "Build")
    latest = build_stage["actionStates"][0]["latestExecution"]
    assert latest["status"] == "Failed"
    assert latest["errorDetails"]["message"].startswith(
        "Build terminated with state: FAILED. Phase: BUILD, Code: COMMAND_EXECUTION_ERROR"
    )
    assert approval(cp, name)["latestExecution"]["pipelineExecutionId"] == third["pipelineExecutionId"]  # fmt: skip


def test_the_pipeline_role_needs_codebuild_start_build_on_the_project(emulator):
    name = "rtb-mlops-cp-denied"
    cp = deploy(name, ["codebuild:BatchGetBuilds"])
    first = wait_for(
        "the creation's execution", lambda: cp.list_pipeline_executions(pipelineName=name)["pipelineExecutionSummaries"]
    )[-1]
    wait_for("the refusal", lambda: status(cp, name, first["pipelineExecutionId"]) == "Failed")
    build_stage = next(s for s in cp.get_pipeline_state(name=name)["stageStates"] if s["stageName"] == "Build")
    message = build_stage["actionStates"][0]["latestExecution"]["errorDetails"]["message"]
    assert f"assumed-role/{name}-pipeline/" in message
    assert f"is not authorized to perform: codebuild:StartBuild on resource: arn:aws:codebuild:{REGION}" in message
