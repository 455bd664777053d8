"""`rtb-mlops definition` / `get-pipeline-definition` and `rtb-mlops run` / `run-pipeline`."""

from __future__ import annotations

import argparse
import json
import sys

from pipelines import sdk_env
from pipelines.commands.common import add_config_flags, load

# Flags that are shorthands for configuration keys (as CodeBuild passes them).
_SHORTHANDS = {
    "artifact": "model.artifact",
    "payload": "model.sample_payload",
    "approval_mode": "approval.mode",
    "role_arn": "aws.role_arn",
    "bucket": "aws.bucket",
    "model_package_group": "registry.model_package_group",
}


def add_definition(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("definition", help="print the pipeline definition JSON (offline, no credentials)")
    configure_definition(p)


def configure_definition(p: argparse.ArgumentParser) -> None:
    add_config_flags(p)
    p.add_argument("--compact", action="store_true", help="one line instead of indented JSON")
    p.set_defaults(func=definition)


def add_run(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="validate the inputs, upsert the pipeline and start an execution")
    configure_run(p)


def configure_run(p: argparse.ArgumentParser) -> None:
    add_config_flags(p)
    p.add_argument("--artifact", help="model.tar.gz, a local path or s3:// URI")
    p.add_argument("--payload", help="sample payload tar.gz (or a CSV of rows), local or s3://")
    p.add_argument("--approval-mode", choices=["auto", "manual"])
    p.add_argument("--role-arn")
    p.add_argument("--bucket")
    p.add_argument("--model-package-group")
    p.add_argument("--wait", action="store_true", help="follow the execution, printing each step's status")
    p.set_defaults(func=run)


def _shorthand_overrides(args: argparse.Namespace) -> list[str]:
    return [f"{key}={getattr(args, attr)}" for attr, key in _SHORTHANDS.items() if getattr(args, attr, None)]


def definition(args: argparse.Namespace) -> int:
    cfg = load(args)
    sdk_env.prepare(cfg.aws.region, offline=True)
    from pipelines.definition import definition_json

    doc = json.loads(definition_json(cfg))
    print(json.dumps(doc, separators=(",", ":")) if args.compact else json.dumps(doc, indent=2))
    return 0


def run(args: argparse.Namespace) -> int:
    cfg = load(args, _shorthand_overrides(args))
    sdk_env.prepare(cfg.aws.region)
    from model_registry.aws import client
    from pipelines import runner
    from pipelines.launch import launch

    launched = launch(cfg)
    report = launched.inputs.report
    inputs = launched.inputs
    print(f"artifact  {inputs.artifact_uri}  sha256 {inputs.sha256[:16]}  ({report.compatibility.reason})")
    print(f"payload   {launched.inputs.payload_uri}  ({report.payload_rows} rows)")
    print(f"pipeline  {launched.pipeline_arn}")
    print(f"execution {launched.execution_arn}")
    if not args.wait:
        return 0
    result = runner.wait(client("sagemaker", cfg.aws.region), launched.execution_arn)
    if result.status != "Succeeded":
        print(f"execution {result.status}: {result.failure_reason}", file=sys.stderr)
        return 1
    return 0
