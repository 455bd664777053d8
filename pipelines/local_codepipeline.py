"""`make run FLOW=codepipeline`: the flow of `make run` with deploy.path = codepipeline, on the
embedded emulator. The approval starts the model deploy pipeline (pipelines/templates/cicd.yaml)
with the approved ARN; its CodeBuild actions run buildspec.yml: staging comes up, the golden
check and a short load test pass, a person approves (`rtb-mlops promote --approve`, here on
their behalf with the CLI user's identity), production comes up and is audited.

The deploy pipeline's projects run on DeployImage, an image with rtb-mlops preinstalled; the
emulator provides it as this installation's executables (emulator.codebuild.images), so no action
spends a minute installing the project. The pipelines' source is the checkout's HEAD, as
`rtb-mlops stack deploy --cicd` ships it.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

from emulator.cloudwatch.models import TRAFFIC_SCALE_SETTING
from emulator.codebuild.images import IMAGES_SETTING
from model_registry.aws import client
from model_registry.names import PIPELINE_PACKAGE_VARIABLE, staging_endpoint_name
from pipelines.config import PipelineConfig, load_config
from pipelines.local_run import (
    DEMO_TRAFFIC_SCALE,
    LOCAL_OVERRIDES,
    LocalRun,
    _phase,
    prepare_account,
    run_pipeline,
    wait_for,
)

# The image the deploy pipeline's projects declare (DeployImage); the emulator maps it to the
# folder of this interpreter's executables (rtb-mlops, run-pipeline).
DEPLOY_IMAGE = "rtb-mlops-deploy:local"
# Staging's short load test: 20 s at one instance's target rate, which the staging fleet holds
# without scaling out (the profile's default peak is the production fleet's, which staging's
# max_instances cannot reach; the 75-minute profile is for AWS: README, Load testing).
STAGING_LOADTEST_SECONDS = 20
_FINAL = ("Succeeded", "Failed", "Stopped", "Stopping", "Superseded", "Cancelled")


def deploy_image_setting() -> str:
    """The emulator's RTB_EMULATOR_CODEBUILD_IMAGES: DeployImage is this installation."""
    return json.dumps({DEPLOY_IMAGE: os.path.dirname(sys.executable)})


@dataclass(frozen=True)
class ActionResult:
    stage: str
    action: str
    status: str
    seconds: float
    summary: str
    build_id: str


@dataclass
class CodePipelineRun:
    local: LocalRun = field(default_factory=LocalRun)
    pipeline: str = ""
    execution_id: str = ""
    package_arn: str = ""
    status: str = ""
    approval_message: str = ""
    actions: list[ActionResult] = field(default_factory=list)
    endpoints: dict[str, dict[str, Any]] = field(default_factory=dict)
    audit_log: list[str] = field(default_factory=list)
    failed_log: list[str] = field(default_factory=list)  # the first failed action's build log, last lines


def run_codepipeline(
    config_path: str, overrides: list[str], port: int, keep: bool, out: TextIO = sys.stdout
) -> CodePipelineRun:
    from emulator import control

    run = CodePipelineRun()
    cfg = load_config(config_path, [*LOCAL_OVERRIDES, "deploy.path=codepipeline", *overrides, "approval.mode=manual"])
    with _phase(run.local, "emulator start", out):
        os.environ.setdefault(TRAFFIC_SCALE_SETTING, DEMO_TRAFFIC_SCALE)
        os.environ[IMAGES_SETTING] = deploy_image_setting()
        running, started = control.up(port)
        os.environ.update(AWS_DEFAULT_REGION=cfg.aws.region, **running.environment())
        print(f"emulator {'started' if started else 'already running'} at {running.url}", file=out)
    try:
        with _phase(run.local, "stacks (role, deploy Lambda)", out):
            prepare_account(cfg)
        with _phase(run.local, "pipeline (register, recommend, gate)", out):
            # Manual mode: the gate passes and leaves the version to a person, who approves it
            # below, once the CI/CD stack knows the version's per-instance target.
            run.local.execution, run.local.results = run_pipeline(cfg, out)
            if run.local.execution.status != "Succeeded":
                return run
            run.package_arn = run.local.results["job"]["model_package_arn"]
        with _phase(run.local, "CI/CD stack, approval", out):
            outputs = deploy_stacks(cfg, staging_loadtest_args(run.local.results))
            run.pipeline = outputs["ModelDeployPipelineName"]
            print(f"model deploy pipeline: {run.pipeline}", file=out)
            approve_package(cfg, run.package_arn)
        _promote(cfg, run, out, refused=lambda: control.denials(running.url))
        return run
    finally:
        run.local.denials = control.denials(running.url)
        if started and not keep:
            control.down()


def staging_loadtest_args(results: dict) -> str:
    rps = results["plan"]["target_invocations_per_instance"] / 60
    return f"--duration {STAGING_LOADTEST_SECONDS} --base-rps {rps:.0f} --peak-rps {rps:.0f} --grace-seconds 5"


def deploy_stacks(cfg: PipelineConfig, loadtest_args: str) -> dict[str, str]:
    """`rtb-mlops stack deploy --cicd`'s stacks (the bucket made first: an emulator starts empty)."""
    from pipelines.commands.stack import source_zip
    from pipelines.stack import deploy_cicd_stack

    prepare_account(cfg)
    extra = {"DeployImage": DEPLOY_IMAGE, "LoadTestArgs": loadtest_args}
    return deploy_cicd_stack(cfg, source_zip(), extra=extra)


def _promote(cfg: PipelineConfig, run: CodePipelineRun, out: TextIO, refused: Callable[[], list[str]]) -> None:
    cp = client("codepipeline", cfg.aws.region)
    try:
        with _phase(run.local, "staging (deploy, golden check, load test)", out):
            run.execution_id = started_execution(cp, run.pipeline, run.package_arn, timeout=120)
            print(f"deploy pipeline execution {run.execution_id} for {run.package_arn}", file=out, flush=True)
            follow(cp, run, out, until=lambda: awaiting(cp, run), refused=refused, timeout=600)
        if run.status:
            return
        with _phase(run.local, "manual approval (rtb-mlops promote --approve)", out):
            approve_as_person(cfg, run.execution_id, run.package_arn)
        with _phase(run.local, "production (blue/green deploy, audit)", out):
            follow(cp, run, out, until=lambda: False, refused=refused, timeout=600)
    except (RuntimeError, TimeoutError) as exc:
        run.local.failure = f"deploy pipeline: {exc}"
    finally:
        if run.execution_id:
            run.actions = action_results(cp, run.pipeline, run.execution_id)
            run.audit_log = build_log([a for a in run.actions if a.action == "Audit"], cfg.aws.region)
            run.failed_log = build_log([a for a in run.actions if a.status == "Failed"][:1], cfg.aws.region)
        run.endpoints = endpoints(cfg)


def started_execution(cp, pipeline: str, package_arn: str, timeout: float) -> str:
    """The execution the approval of `package_arn` started (the start Lambda's variable)."""

    def find() -> str | None:
        for summary in cp.list_pipeline_executions(pipelineName=pipeline)["pipelineExecutionSummaries"]:
            got = cp.get_pipeline_execution(pipelineName=pipeline, pipelineExecutionId=summary["pipelineExecutionId"])
            values = {v["name"]: v["resolvedValue"] for v in got["pipelineExecution"].get("variables", [])}
            if values.get(PIPELINE_PACKAGE_VARIABLE) == package_arn:
                return summary["pipelineExecutionId"]
        return None

    return wait_for(find, f"an execution of {pipeline} for {package_arn}", timeout, sys.stdout)


def awaiting(cp, run: CodePipelineRun) -> bool:
    """Whether run's execution waits for a person (its approval's message kept in run)."""
    from pipelines.promotion import NotAwaitingApproval, pending

    try:
        approval = pending(cp, run.pipeline, run.execution_id, run.package_arn)
    except NotAwaitingApproval:
        return False
    run.approval_message = approval_message(cp, run.pipeline, run.execution_id, approval.action)
    return True


def approval_message(cp, pipeline: str, execution_id: str, action: str) -> str:
    """The approval's CustomData as CodePipeline resolved it (ListActionExecutions)."""
    details = cp.list_action_executions(pipelineName=pipeline, filter={"pipelineExecutionId": execution_id})
    for d in details["actionExecutionDetails"]:
        if d["actionName"] == action:
            return (d.get("input") or {}).get("resolvedConfiguration", {}).get("CustomData", "")
    return ""


def follow(
    cp, run: CodePipelineRun, out: TextIO, until: Callable[[], bool], refused: Callable[[], list[str]], timeout: float
) -> None:
    """Print each action as it changes status, until `until()` or the execution ends (its status
    in run.status)."""
    seen: dict[tuple[str, str], str] = {}
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        for a in action_results(cp, run.pipeline, run.execution_id):
            if seen.get((a.stage, a.action)) != a.status:
                seen[(a.stage, a.action)] = a.status
                print(f"  {a.stage}.{a.action}: {a.status} {a.summary[:100]}", file=out, flush=True)
        status = cp.get_pipeline_execution(pipelineName=run.pipeline, pipelineExecutionId=run.execution_id)[
            "pipelineExecution"
        ]["status"]
        if status in _FINAL:
            run.status = status
            return
        if until():
            return
        denied = refused()
        if denied:
            raise RuntimeError(f"AccessDenied: {denied[-1]}")
        time.sleep(1.0)
    raise TimeoutError(f"{run.pipeline} execution {run.execution_id}: not done after {timeout:.0f} s")


def approve_package(cfg: PipelineConfig, package_arn: str) -> None:
    """`rtb-mlops registry approve`, as the person who reviewed the gate's evidence."""
    from pipelines.cli import main

    argv = ["registry", "approve", package_arn, "--description", "approved by make run FLOW=codepipeline"]
    if main([*argv, "--set", f"aws.region={cfg.aws.region}"]) != 0:
        raise RuntimeError(f"rtb-mlops registry approve {package_arn} failed")


def approve_as_person(cfg: PipelineConfig, execution_id: str, package_arn: str) -> None:
    """`rtb-mlops promote --approve`, with the CLI user's identity (the emulator environment's)."""
    from pipelines.cli import main

    argv = ["promote", "--approve", execution_id, "--model-package-arn", package_arn]
    argv += ["--set", f"aws.region={cfg.aws.region}", "--set", f"deploy.endpoint_name={cfg.deploy.endpoint_name}"]
    argv += ["--summary", "approved by make run FLOW=codepipeline after reading the staging evidence"]
    if main(argv) != 0:
        raise RuntimeError("rtb-mlops promote --approve failed")


def action_results(cp, pipeline: str, execution_id: str) -> list[ActionResult]:
    details = cp.list_action_executions(pipelineName=pipeline, filter={"pipelineExecutionId": execution_id})
    found = []
    for d in sorted(details["actionExecutionDetails"], key=lambda d: d["startTime"]):
        result = (d.get("output") or {}).get("executionResult") or {}
        seconds = (d["lastUpdateTime"] - d["startTime"]).total_seconds()
        found.append(
            ActionResult(
                d["stageName"],
                d["actionName"],
                d["status"],
                seconds,
                result.get("externalExecutionSummary") or (result.get("errorDetails") or {}).get("message", ""),
                result.get("externalExecutionId") or "",
            )
        )
    return found


def build_log(actions: list[ActionResult], region: str, last: int = 25) -> list[str]:
    """The last lines a CodeBuild action's build wrote to CloudWatch Logs: the group
    /aws/codebuild/<project>, the stream the build id's second half (CodeBuild's defaults)."""
    if not actions or ":" not in actions[-1].build_id:
        return []
    project, stream = actions[-1].build_id.split(":", 1)
    events = client("logs", region).get_log_events(
        logGroupName=f"/aws/codebuild/{project}", logStreamName=stream, startFromHead=False, limit=last
    )["events"]
    return [e["message"] for e in events]


def endpoints(cfg: PipelineConfig) -> dict[str, dict[str, Any]]:
    from botocore.exceptions import ClientError

    sm = client("sagemaker", cfg.aws.region)
    found = {}
    for name in (staging_endpoint_name(cfg.deploy.endpoint_name), cfg.deploy.endpoint_name):
        try:
            found[name] = sm.describe_endpoint(EndpointName=name)
        except ClientError:
            continue
    return found
