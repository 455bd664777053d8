"""CodeBuild builds in the emulator (moto keeps the projects): environment precedence, the
service role's trust and log permissions, S3 source and artifacts, BatchGetBuilds' shape."""

from __future__ import annotations

import io
import json
import threading
import time
import zipfile

import boto3
import pytest

from emulator.codebuild.builds import CodeBuild
from emulator.codebuild.responses import CodeBuildApi
from emulator.context import Context

REGION = "us-east-1"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "codebuild.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}
LOGS = {"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "*"}
SOURCE = {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "arn:aws:s3:::src-bucket/*"}
BUILDSPEC = """
version: 0.2
env:
  variables:
    FROM_SPEC: spec
    SHARED: spec
  exported-variables: [RESULT]
phases:
  build:
    commands:
      - echo "spec=$FROM_SPEC shared=$SHARED stage=$STAGE src=$(cat input.txt)"
      - export RESULT=done-$STAGE
      - mkdir -p out && echo artifact > out/a.txt
artifacts:
  files: ['out/**/*']
"""


@pytest.fixture
def api(moto_aws, tmp_path):
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="src-bucket")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("buildspec.yml", BUILDSPEC)
        zf.writestr("input.txt", "from-zip")
    s3.put_object(Bucket="src-bucket", Key="source.zip", Body=buf.getvalue())
    return CodeBuildApi(CodeBuild(Context(url="http://127.0.0.1:1", region=REGION, work_dir=tmp_path)))


def project(name: str, statements: list[dict], trust: dict = TRUST) -> None:
    iam = boto3.client("iam", region_name=REGION)
    role = iam.create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    iam.put_role_policy(
        RoleName=f"{name}-role",
        PolicyName="p",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}),
    )
    boto3.client("codebuild", region_name=REGION).create_project(
        name=name,
        source={"type": "S3", "location": "src-bucket/source.zip"},
        artifacts={"type": "S3", "location": "src-bucket", "path": "out", "name": "result", "packaging": "NONE"},
        environment={
            "type": "LINUX_CONTAINER",
            "image": "aws/codebuild/standard:7.0",
            "computeType": "BUILD_GENERAL1_SMALL",
            "environmentVariables": [
                {"name": "SHARED", "value": "project", "type": "PLAINTEXT"},
                {"name": "STAGE", "value": "project", "type": "PLAINTEXT"},
            ],
        },
        serviceRole=role,
    )


def finished(api: CodeBuildApi, build_id: str) -> dict:
    api.engine.builds[build_id].done.wait(60)
    return api.batch_get_builds({"ids": [build_id]})["builds"][0]


def log_lines(build: dict) -> list[str]:
    events = boto3.client("logs", region_name=REGION).get_log_events(
        logGroupName=build["logs"]["groupName"], logStreamName=build["logs"]["streamName"]
    )["events"]
    return [e["message"] for e in events]


def test_start_build_overrides_beat_the_project_which_beats_the_buildspec(api):
    project("p-env", [LOGS, SOURCE])
    started = api.start_build(
        {
            "projectName": "p-env",
            "environmentVariablesOverride": [{"name": "STAGE", "value": "deploy", "type": "PLAINTEXT"}],
        }
    )["build"]
    assert started["buildStatus"] == "IN_PROGRESS" and started["id"].startswith("p-env:")
    build = finished(api, started["id"])
    assert build["buildStatus"] == "SUCCEEDED", build["phases"]
    assert "spec=spec shared=project stage=deploy src=from-zip" in log_lines(build)
    assert [p["phaseType"] for p in build["phases"]] == [
        "SUBMITTED", "QUEUED", "PROVISIONING", "DOWNLOAD_SOURCE", "INSTALL", "PRE_BUILD", "BUILD", "POST_BUILD",
        "UPLOAD_ARTIFACTS", "FINALIZING", "COMPLETED",
    ]  # fmt: skip
    assert all(p["phaseStatus"] == "SUCCEEDED" for p in build["phases"][:-1])
    assert build["exportedEnvironmentVariables"] == [{"name": "RESULT", "value": "done-deploy"}]
    assert build["logs"]["groupName"] == "/aws/codebuild/p-env"
    body = boto3.client("s3", region_name=REGION).get_object(Bucket="src-bucket", Key="out/result/out/a.txt")["Body"]
    assert body.read() == b"artifact\n"


def test_a_role_that_codebuild_may_not_assume_fails_provisioning(api):
    other = {**TRUST, "Statement": [{**TRUST["Statement"][0], "Principal": {"Service": "lambda.amazonaws.com"}}]}
    project("p-trust", [LOGS, SOURCE], trust=other)
    build = finished(api, api.start_build({"projectName": "p-trust"})["build"]["id"])
    assert build["buildStatus"] == "FAILED"
    provisioning = build["phases"][2]
    assert provisioning["phaseType"] == "PROVISIONING" and provisioning["phaseStatus"] == "FAILED"
    assert provisioning["contexts"][0]["message"].startswith("CodeBuild is not authorized to perform: sts:AssumeRole")


def test_a_role_without_log_permissions_fails_provisioning_naming_the_action(api):
    project("p-logs", [SOURCE])
    build = finished(api, api.start_build({"projectName": "p-logs"})["build"]["id"])
    context = build["phases"][2]["contexts"][0]
    assert context["statusCode"] == "ACCESS_DENIED"
    assert "is not authorized to perform: logs:CreateLogStream" in context["message"]
    assert "log-group:/aws/codebuild/p-logs:log-stream:" in context["message"]


def test_a_role_that_cannot_read_the_source_fails_download_source(api):
    project("p-src", [LOGS])
    build = finished(api, api.start_build({"projectName": "p-src"})["build"]["id"])
    download = build["phases"][3]
    assert (download["phaseType"], download["phaseStatus"]) == ("DOWNLOAD_SOURCE", "FAILED")
    assert "s3:GetObject on resource: arn:aws:s3:::src-bucket/source.zip" in download["contexts"][0]["message"]


def test_a_failing_command_fails_the_build_and_its_log_says_which(api):
    project("p-fail", [LOGS, SOURCE])
    spec = "version: 0.2\nphases:\n  build:\n    commands:\n      - echo before\n      - exit 7\n"
    build = finished(api, api.start_build({"projectName": "p-fail", "buildspecOverride": spec})["build"]["id"])
    assert build["buildStatus"] == "FAILED"
    phase = next(p for p in build["phases"] if p["phaseType"] == "BUILD")
    assert phase["contexts"][0] == {
        "statusCode": "COMMAND_EXECUTION_ERROR",
        "message": "Error while executing command: exit 7. Reason: exit status 7",
    }
    assert "before" in log_lines(build)
    assert build["buildComplete"] is True


def test_batch_get_builds_names_unknown_ids(api):
    assert api.batch_get_builds({"ids": ["nope:1"]}) == {"builds": [], "buildsNotFound": ["nope:1"]}


def test_builds_beyond_the_concurrency_wait_queued_and_stop_build_ends_either(api):
    project("p-stop", [LOGS, SOURCE])
    spec = "version: 0.2\nphases:\n  build:\n    commands: ['sleep 30']\n"
    api.engine._slots = threading.Semaphore(1)
    running = api.start_build({"projectName": "p-stop", "buildspecOverride": spec})["build"]["id"]
    queued = api.start_build({"projectName": "p-stop", "buildspecOverride": spec})["build"]["id"]
    deadline = time.monotonic() + 20
    while api.engine.builds[running].current_phase != "BUILD":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert api.batch_get_builds({"ids": [queued]})["builds"][0]["currentPhase"] == "QUEUED"
    api.stop_build({"id": queued})
    api.stop_build({"id": running})
    first, second = finished(api, running), finished(api, queued)
    assert (first["buildStatus"], second["buildStatus"]) == ("STOPPED", "STOPPED")
    assert next(p for p in first["phases"] if p["phaseType"] == "BUILD")["phaseStatus"] == "STOPPED"
    assert [p["phaseType"] for p in second["phases"]] == ["SUBMITTED", "QUEUED", "FINALIZING", "COMPLETED"]


def test_a_build_queued_beyond_its_queued_timeout_times_out(api):
    project("p-queue", [LOGS, SOURCE])
    spec = "version: 0.2\nphases:\n  build:\n    commands: ['sleep 30']\n"
    api.engine._slots = threading.Semaphore(1)
    running = api.start_build({"projectName": "p-queue", "buildspecOverride": spec})["build"]["id"]
    api.engine.projects["p-queue"].project_metadata["queuedTimeoutInMinutes"] = 0.01  # 0.6 s (the API's minimum is 5)
    queued = finished(api, api.start_build({"projectName": "p-queue", "buildspecOverride": spec})["build"]["id"])
    api.stop_build({"id": running})
    assert queued["buildStatus"] == "TIMED_OUT"
    assert queued["phases"][1] | {"startTime": 0, "endTime": 0, "durationInSeconds": 0} == {
        "phaseType": "QUEUED",
        "phaseStatus": "TIMED_OUT",
        "startTime": 0,
        "endTime": 0,
        "durationInSeconds": 0,
        "contexts": [
            {"statusCode": "BUILD_TIMED_OUT", "message": "Build timed out while queued (queuedTimeoutInMinutes)"}
        ],
    }
    finished(api, running)


def test_a_long_command_s_output_reaches_the_log_while_it_runs(api, monkeypatch):
    monkeypatch.setattr("emulator.codebuild.builds.FLUSH_SECONDS", 0.2)
    project("p-live", [LOGS, SOURCE])
    spec = "version: 0.2\nphases:\n  build:\n    commands: ['echo started; sleep 1; echo tick; sleep 30']\n"
    build_id = api.start_build({"projectName": "p-live", "buildspecOverride": spec})["build"]["id"]
    deadline = time.monotonic() + 20
    while not api.engine.builds[build_id].log_stream or "started" not in log_lines(
        api.batch_get_builds({"ids": [build_id]})["builds"][0]
    ):
        assert time.monotonic() < deadline, "the output never reached the log while the command ran"
        time.sleep(0.2)
    api.stop_build({"id": build_id})
    assert finished(api, build_id)["buildStatus"] == "STOPPED"
