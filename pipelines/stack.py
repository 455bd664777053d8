"""The deploy Lambda's CloudFormation stack: its code zipped and uploaded, then created or
updated, and followed to the end."""

from __future__ import annotations

import time
from pathlib import Path

from botocore.exceptions import ClientError

from model_registry.aws import client
from pipelines import code_bundle
from pipelines.config import PipelineConfig
from pipelines.deploy_settings import stack_parameters

TEMPLATE = Path(__file__).resolve().parent.parent / "deploy_lambda" / "template.yaml"
_DONE = ("CREATE_COMPLETE", "UPDATE_COMPLETE")


class StackError(RuntimeError):
    pass


def stack_name(cfg: PipelineConfig) -> str:
    return f"{cfg.deploy.endpoint_name}-deploy"


def _first_failure(cfn, name: str) -> str:
    """Why the stack failed: CloudFormation says it on the first resource that failed."""
    events = cfn.describe_stack_events(StackName=name).get("StackEvents", [])
    failed = [e for e in events if e.get("ResourceStatus", "").endswith("FAILED")]
    return failed[-1].get("ResourceStatusReason", "") if failed else ""


def deploy_stack(cfg: PipelineConfig, timeout: float = 900.0) -> dict[str, str]:
    """The stack's outputs once it is complete."""
    s3, cfn = client("s3", cfg.aws.region), client("cloudformation", cfg.aws.region)
    bundle = code_bundle.collect(code_bundle.LAMBDA_PACKAGES)
    key = f"{cfg.aws.prefix}/code/lambda/{bundle.digest[:16]}.zip"
    s3.put_object(Bucket=cfg.aws.bucket, Key=key, Body=bundle.zip_bytes())
    name = stack_name(cfg)
    kwargs = {
        "StackName": name,
        "TemplateBody": TEMPLATE.read_text(),
        "Parameters": [
            {"ParameterKey": k, "ParameterValue": v} for k, v in stack_parameters(cfg, cfg.aws.bucket, key).items()
        ],
        "Capabilities": ["CAPABILITY_IAM"],
    }
    try:
        cfn.describe_stacks(StackName=name)
        exists = True
    except ClientError:
        exists = False
    try:
        (cfn.update_stack if exists else cfn.create_stack)(**kwargs)
    except ClientError as exc:
        if "No updates are to be performed" not in str(exc):
            raise
    began, delay = time.monotonic(), 0.5
    while True:
        stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
        if stack["StackStatus"] in _DONE:
            return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        if stack["StackStatus"].endswith(("FAILED", "ROLLBACK_COMPLETE")) or time.monotonic() - began > timeout:
            reason = stack.get("StackStatusReason") or _first_failure(cfn, name)
            raise StackError(f"stack {name} is {stack['StackStatus']}: {reason}")
        time.sleep(delay)
        delay = min(10.0, delay * 2)
