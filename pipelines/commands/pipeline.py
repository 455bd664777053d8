"""`rtb-mlops definition` / `get-pipeline-definition` and `rtb-mlops run` / `run-pipeline`."""

from __future__ import annotations

import argparse
import json
import sys

from pipelines import sdk_env
from pipelines.commands.common import add_config_flags, load, source_commit

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
    from pipelines import code_bundle, runner
    from pipelines.definition import Parameters, build_pipeline
    from pipelines.inputs import resolve

    s3, sm = client("s3", cfg.aws.region), client("sagemaker", cfg.aws.region)
    inputs = resolve(cfg, s3, cfg.model.artifact, cfg.model.sample_payload)
    print(f"artifact  {inputs.artifact_uri}  sha256 {inputs.sha256[:16]}  ({inputs.report.compatibility.reason})")
    print(f"payload   {inputs.payload_uri}  ({inputs.report.payload_rows} rows)")
    bundle = code_bundle.collect(code_bundle.STEPS_PACKAGES)
    code_bundle.upload(s3, bundle, bundle.s3_prefix(cfg.s3_root, "steps"))
    pipeline_arn = runner.upsert(
        sm,
        cfg.pipeline.name,
        build_pipeline(cfg, bundle).definition(),
        cfg.aws.role_arn,
        "RTB bid filter: register, recommend, gate",
    )
    print(f"pipeline  {pipeline_arn}")
    params = {p.name: p.default_value for p in Parameters.from_config(cfg).all() if p.default_value is not None}
    params.update(
        ModelArtifactUri=inputs.artifact_uri,
        SamplePayloadUri=inputs.payload_uri,
        ModelArtifactSha256=inputs.sha256,
        SourceCommit=source_commit(),
    )
    execution_arn = runner.start(sm, cfg.pipeline.name, params, f"sha-{inputs.sha256[:12]}")
    print(f"execution {execution_arn}")
    if not args.wait:
        return 0
    result = runner.wait(sm, execution_arn)
    if result.status != "Succeeded":
        print(f"execution {result.status}: {result.failure_reason}", file=sys.stderr)
        return 1
    return 0
