"""Running one pipeline step for real: RegisterModel, Processing (a local subprocess of the
step's script), Condition, Fail and Lambda.

Processing maps `/opt/ml/processing` to a work folder: inputs are copied there from S3,
the container's entrypoint runs with the step's arguments and environment (and the
emulator as its AWS endpoint), and outputs are uploaded where the step said.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emulator.context import Context
from emulator.iam import principals
from emulator.iam.principals import Credentials
from emulator.lambdas import Lambdas
from emulator.pipeline_expr import Scope, condition, resolve
from model_registry.aws import client
from serving.child import dies_with_parent

CONTAINER_ROOT = "/opt/ml/processing"


class StepFailed(RuntimeError):
    pass


@dataclass
class StepResult:
    metadata: dict[str, Any]
    properties: dict[str, Any] = field(default_factory=dict)
    property_files: dict[str, Any] = field(default_factory=dict)
    next_steps: list[str] = field(default_factory=list)
    fail_message: str = ""


def register_model(step: dict, scope: Scope, ctx: Context, role: Credentials, **_: Any) -> StepResult:
    args = resolve(step["Arguments"], scope)
    # SageMaker Pipelines registers the package as the pipeline's execution role.
    sm = client("sagemaker", ctx.region, role.environment())
    arn = sm.create_model_package(**args)["ModelPackageArn"]
    props = sm.describe_model_package(ModelPackageName=arn)
    props.pop("ResponseMetadata", None)
    return StepResult({"RegisterModel": {"Arn": arn}}, properties=props)


class StepProcess:
    """A processing container's process, stoppable from another thread."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen | None = None
        self.stopped = threading.Event()

    def stop(self) -> None:
        self.stopped.set()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()


def _assume(ctx: Context, role_arn: str, session: str) -> Credentials:
    try:
        return principals.assume(role_arn, "sagemaker.amazonaws.com", session[:64], ctx.account, ctx.region)
    except principals.NotTrusted as exc:
        raise StepFailed(f"ClientError: {exc}") from None


def execution_role(ctx: Context, role_arn: str, session: str) -> Credentials:
    """The pipeline's execution role, as SageMaker assumes it to run the steps."""
    return _assume(ctx, role_arn, session)


def _map(value: str, root: Path) -> str:
    return value.replace(CONTAINER_ROOT, str(root / "opt/ml/processing"))


def _download(ctx: Context, s3_uri: str, local_dir: Path) -> None:
    local_dir.mkdir(parents=True, exist_ok=True)
    prefix = s3_uri.rstrip("/")
    keys = ctx.list_s3(prefix)
    if not keys:
        raise StepFailed(f"ClientError: no S3 objects at {s3_uri}")
    for key in keys:
        rel = key[len(prefix) :].lstrip("/") or Path(key).name
        dest = local_dir / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(ctx.read_s3(key))


def processing(
    step: dict, scope: Scope, ctx: Context, job_name: str, runner: StepProcess, role: Credentials, **_: Any
) -> StepResult:
    args = resolve(step["Arguments"], scope)
    if args.get("RoleArn"):
        # The processing job runs as the role it was given.
        role = _assume(ctx, args["RoleArn"], job_name)
    work = ctx.folder("processing", job_name)
    for inp in args.get("ProcessingInputs", []):
        s3 = inp["S3Input"]
        _download(ctx, s3["S3Uri"], Path(_map(s3["LocalPath"], work)))
    outputs = args.get("ProcessingOutputConfig", {}).get("Outputs", [])
    for out in outputs:
        Path(_map(out["S3Output"]["LocalPath"], work)).mkdir(parents=True, exist_ok=True)
    app = args["AppSpecification"]
    command = [_map(str(a), work) for a in app.get("ContainerEntrypoint", []) + app.get("ContainerArguments", [])]
    if command and command[0] in ("python3", "python"):
        command[0] = sys.executable
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        **{k: _map(str(v), work) for k, v in (args.get("Environment") or {}).items()},
        **ctx.aws_environment(role.environment()),
    }
    log_path = work / "output.log"
    tail: deque[str] = deque(maxlen=20)
    max_runtime = int((args.get("StoppingCondition") or {}).get("MaxRuntimeInSeconds", 86400))
    overran = threading.Event()

    def time_out() -> None:
        overran.set()
        runner.stop()

    timer = threading.Timer(max_runtime, time_out)
    with open(log_path, "w") as log_file:
        runner.proc = subprocess.Popen(
            dies_with_parent(command), cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        timer.start()
        for line in runner.proc.stdout:
            log_file.write(line)
            tail.append(line.rstrip())
        code = runner.proc.wait()
        timer.cancel()
    if overran.is_set():
        raise StepFailed(f"the job exceeded its MaxRuntimeInSeconds ({max_runtime} s) and was stopped")
    if runner.stopped.is_set():
        raise StepFailed("Stopped")
    if code != 0:
        raise StepFailed(f"AlgorithmError: the step script exited with status {code}: " + " | ".join(list(tail)[-6:]))
    for out in outputs:
        local = Path(_map(out["S3Output"]["LocalPath"], work))
        for path in sorted(p for p in local.rglob("*") if p.is_file()):
            ctx.write_s3(
                f"{out['S3Output']['S3Uri'].rstrip('/')}/{path.relative_to(local).as_posix()}", path.read_bytes()
            )
    files = {}
    for pf in step.get("PropertyFiles", []):
        out = next(o for o in outputs if o["OutputName"] == pf["OutputName"])
        path = Path(_map(out["S3Output"]["LocalPath"], work)) / pf["FilePath"]
        try:
            files[pf["PropertyFileName"]] = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise StepFailed(f"property file {pf['PropertyFileName']} ({pf['FilePath']}) unreadable: {exc}") from None
    arn = f"arn:aws:sagemaker:{ctx.region}:{ctx.account}:processing-job/{job_name}"
    props = {**args, "ProcessingJobName": job_name, "ProcessingJobArn": arn, "ProcessingJobStatus": "Completed"}
    return StepResult({"ProcessingJob": {"Arn": arn}}, properties=props, property_files=files)


def condition_step(step: dict, scope: Scope, **_: Any) -> StepResult:
    args = step["Arguments"]
    outcome = all(condition(c, scope) for c in args.get("Conditions", []))
    branch = args.get("IfSteps" if outcome else "ElseSteps", [])
    metadata = {"Condition": {"Outcome": str(outcome).lower()}}
    return StepResult(metadata, properties={"Outcome": outcome}, next_steps=[s["Name"] for s in branch])


def fail_step(step: dict, scope: Scope, **_: Any) -> StepResult:
    message = str(resolve(step["Arguments"].get("ErrorMessage", ""), scope))
    return StepResult({"Fail": {"ErrorMessage": message}}, fail_message=message)


def lambda_step(step: dict, scope: Scope, lambdas: Lambdas, job_name: str, **_: Any) -> StepResult:
    arn = step["FunctionArn"]
    event = resolve(step.get("Arguments", {}), scope)
    result = lambdas.invoke(arn, event, job_name)
    if not result.ok:
        raise StepFailed(f"Lambda {arn} failed: {result.result}")
    outputs = result.result if isinstance(result.result, dict) else {}
    props = {
        "OutputParameters": {o["OutputName"]: outputs.get(o["OutputName"]) for o in step.get("OutputParameters", [])}
    }
    props.update({o["OutputName"]: outputs.get(o["OutputName"]) for o in step.get("OutputParameters", [])})
    shown = [{"Name": k, "Value": str(v)} for k, v in props["OutputParameters"].items()]
    return StepResult({"Lambda": {"Arn": arn, "OutputParameters": shown}}, properties=props)


RUNNERS = {
    "RegisterModel": register_model,
    "Processing": processing,
    "Condition": condition_step,
    "Fail": fail_step,
    "Lambda": lambda_step,
}
