"""The whole flow on this machine, against the embedded emulator (what `make run` does).

Local mode is nothing but the emulator's URL as AWS_ENDPOINT_URL and placeholder
credentials: every step below is the same code that runs against AWS.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from botocore.exceptions import ClientError

from emulator import local_image
from emulator.cloudwatch.models import TRAFFIC_SCALE_SETTING
from emulator.context import ACCOUNT
from model_registry import packages
from model_registry.aws import client
from model_registry.endpoints import package_of_model, specification_of_model
from model_registry.names import VARIANT, scaling_resource_id, specification_label
from pipelines.config import PipelineConfig, load_config
from pipelines.runner import ExecutionResult

# The demo's emulator models the planned fleet 1:500 (emulator.cloudwatch.models), so that
# `rtb-mlops loadtest` reaches a plan's per-instance target and peak (tens of thousands of
# requests a second) with the ~100 requests a second this machine sends.
DEMO_TRAFFIC_SCALE = "500"

LOCAL_OVERRIDES = [
    f"aws.role_arn=arn:aws:iam::{ACCOUNT}:role/rtb-mlops-sagemaker-execution",
    "aws.bucket=rtb-mlops-local",
    # The emulator (in us-east-1) holds a stand-in record for the fast image in its ECR.
    f"serving.image_uri={local_image.uri(ACCOUNT, 'us-east-1')}",
]


@dataclass
class LocalRun:
    phases: dict[str, float] = field(default_factory=dict)
    execution: ExecutionResult | None = None
    results: dict[str, Any] = field(default_factory=dict)
    measurements: dict[str, Any] = field(default_factory=dict)
    endpoint: dict[str, Any] = field(default_factory=dict)
    scaling: dict[str, Any] = field(default_factory=dict)
    container: str = ""  # the inference specification the endpoint's model serves
    rows: list[str] = field(default_factory=list)
    predictions: list[str] = field(default_factory=list)
    failure: str = ""
    denials: list[str] = field(default_factory=list)  # what the emulator's IAM refused, as AWS words it


@contextmanager
def _phase(run: LocalRun, name: str, out: TextIO):
    print(f"\n== {name}", file=out, flush=True)
    began = time.monotonic()
    try:
        yield
    finally:
        run.phases[name] = round(time.monotonic() - began, 2)


def wait_for(check: Callable[[], Any], what: str, timeout: float, out: TextIO, poll: float = 0.5) -> Any:
    began = time.monotonic()
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() - began > timeout:
            raise TimeoutError(f"{what}: not done after {timeout:.0f} s")
        time.sleep(poll)


def _endpoint_ready(cfg: PipelineConfig, refused: Callable[[], list[str]]) -> Callable[[], dict | None]:
    sm, aas = client("sagemaker", cfg.aws.region), client("application-autoscaling", cfg.aws.region)
    resource = scaling_resource_id(cfg.deploy.endpoint_name, VARIANT)

    def check() -> dict | None:
        denied = refused()
        if denied:
            # The deploy Lambda's calls are refused: waiting longer would only reach the DLQ.
            raise RuntimeError(f"AccessDenied: {denied[-1]}")
        try:
            endpoint = sm.describe_endpoint(EndpointName=cfg.deploy.endpoint_name)
        except ClientError:
            return None
        if endpoint["EndpointStatus"] == "Failed":
            raise RuntimeError(f"endpoint failed: {endpoint.get('FailureReason')}")
        targets = aas.describe_scalable_targets(ServiceNamespace="sagemaker", ResourceIds=[resource])["ScalableTargets"]
        return endpoint if endpoint["EndpointStatus"] == "InService" and targets else None

    return check


def run_local(
    config_path: str,
    overrides: list[str],
    port: int,
    keep: bool,
    out: TextIO = sys.stdout,
) -> LocalRun:
    from emulator import control

    run = LocalRun()
    cfg = load_config(config_path, [*LOCAL_OVERRIDES, *overrides])
    with _phase(run, "emulator start", out):
        os.environ.setdefault(TRAFFIC_SCALE_SETTING, DEMO_TRAFFIC_SCALE)
        running, started = control.up(port)
        os.environ.update(AWS_DEFAULT_REGION=cfg.aws.region, **running.environment())
        print(f"emulator {'started' if started else 'already running'} at {running.url}", file=out)
    try:
        with _phase(run, "deploy Lambda stack", out):
            outputs = prepare_account(cfg)
            print(f"stack ready: {outputs.get('DeployFunctionArn')}", file=out)
        with _phase(run, "pipeline (register, recommend, gate)", out):
            run.execution, run.results = run_pipeline(cfg, out)
            run.measurements = _emulator_measurements(cfg, run.results)
            if run.execution.status != "Succeeded":
                return run
        with _phase(run, "deploy (approval event, Lambda, endpoint, autoscaling)", out):
            try:
                run.endpoint = endpoint_ready(cfg, out, refused=lambda: control.denials(running.url))
            except (RuntimeError, TimeoutError) as exc:
                run.failure = f"deploy: {exc}"
                return run
            run.scaling = _scaling(cfg)
            run.container = _serving_container(cfg, run.endpoint)
        with _phase(run, "first invoke", out):
            from pipelines.commands.invoke import invoke

            run.rows = _first_rows(Path(cfg.model.sample_payload), 3)
            answer = invoke(cfg.deploy.endpoint_name, "\n".join(run.rows).encode(), region=cfg.aws.region)
            # The stock container answers "a,b,c", serving/ one score a line.
            run.predictions = re.split(r"[,\s]+", answer.strip())
        return run
    finally:
        run.denials = control.denials(running.url)
        if started and not keep:
            control.down()


def prepare_account(cfg: PipelineConfig) -> dict[str, str]:
    """The bucket (made here: an emulator starts empty) and the deploy Lambda's stack."""
    from pipelines.stack import deploy_stack

    s3 = client("s3", cfg.aws.region)
    try:
        s3.head_bucket(Bucket=cfg.aws.bucket)
    except ClientError:
        s3.create_bucket(Bucket=cfg.aws.bucket)
    return deploy_stack(cfg)


def run_pipeline(cfg: PipelineConfig, out: TextIO) -> tuple[ExecutionResult, dict]:
    """Launch one execution, follow it to the end, and read the Recommend step's results."""
    from pipelines import runner, sdk_env
    from pipelines.launch import launch

    sdk_env.prepare(cfg.aws.region)
    launched = launch(cfg)
    print(f"execution {launched.execution_arn}", file=out, flush=True)
    result = runner.wait(client("sagemaker", cfg.aws.region), launched.execution_arn, out=out, poll_seconds=0.5)
    return result, _read_results(cfg, launched.execution_arn.rsplit("/", 1)[-1])


def endpoint_ready(
    cfg: PipelineConfig, out: TextIO, timeout: float = 180, refused: Callable[[], list[str]] = list
) -> dict:
    """The endpoint once it is InService with autoscaling; `refused` lists what AWS refused so
    far (the emulator's IAM denials), which ends the wait with the refusal."""
    return wait_for(_endpoint_ready(cfg, refused), "endpoint InService with autoscaling", timeout, out)


def _read_results(cfg: PipelineConfig, exec_id: str) -> dict:
    key = f"{cfg.aws.prefix}/executions/{exec_id}/recommend/results.json"
    try:
        return json.loads(client("s3", cfg.aws.region).get_object(Bucket=cfg.aws.bucket, Key=key)["Body"].read())
    except ClientError:
        return {}


def _emulator_measurements(cfg: PipelineConfig, results: dict) -> dict:
    """What the emulator's recommender measured, from where it writes it beside the payload."""
    job = results.get("job", {}).get("name")
    key = f"rtb-mlops-emulator/inference-recommender/{job}/measurements.json"
    try:
        return json.loads(client("s3", cfg.aws.region).get_object(Bucket=cfg.aws.bucket, Key=key)["Body"].read())
    except ClientError:
        return {}


def _serving_container(cfg: PipelineConfig, endpoint: dict) -> str:
    """The inference specification the endpoint's model serves, and its image."""
    sm = client("sagemaker", cfg.aws.region)
    config = sm.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    model = sm.describe_model(ModelName=config["ProductionVariants"][0]["ModelName"])
    package = packages.describe(sm, package_of_model(model) or "")
    name = specification_of_model(model)
    return f"{specification_label(name)} ({package.specifications.get(name) if name else package.image})"


def _scaling(cfg: PipelineConfig) -> dict:
    aas = client("application-autoscaling", cfg.aws.region)
    resource = scaling_resource_id(cfg.deploy.endpoint_name, VARIANT)
    target = aas.describe_scalable_targets(ServiceNamespace="sagemaker", ResourceIds=[resource])["ScalableTargets"][0]
    policies = aas.describe_scaling_policies(ServiceNamespace="sagemaker", ResourceId=resource)["ScalingPolicies"]
    policy = policies[0]["TargetTrackingScalingPolicyConfiguration"] if policies else {}
    return {"min": target["MinCapacity"], "max": target["MaxCapacity"], "target": policy.get("TargetValue")}


def _first_rows(payload: Path, n: int) -> list[str]:
    from model_registry.artifact.payload import read_sample_payload

    if payload.suffix == ".csv":
        return [ln for ln in payload.read_text().splitlines() if ln.strip()][:n]
    bodies = read_sample_payload(payload).bodies
    return [bodies[k].decode().strip() for k in sorted(bodies)][:n]
