"""`rtb-mlops promote (--approve | --reject) EXECUTION_ID`: a person's answer to the model deploy
pipeline's manual approval, for that execution and the package it carries (pipelines/promotion.py)."""

from __future__ import annotations

import argparse

from pipelines.commands.common import add_config_flags, load


def add(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("promote", help="approve or reject an execution of the model deploy pipeline for production")
    add_config_flags(p)
    verdict = p.add_mutually_exclusive_group(required=True)
    verdict.add_argument("--approve", action="store_true")
    verdict.add_argument("--reject", action="store_true")
    p.add_argument("execution_id", metavar="EXECUTION_ID", help="the CodePipeline execution waiting for approval")
    p.add_argument("--model-package-arn", help="refuse unless the execution carries this package")
    p.add_argument("--summary", default="", help="the reason, recorded with the approval (512 characters)")
    p.add_argument("--pipeline", help="default: <deploy.endpoint_name>-model-deploy")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from model_registry.aws import client
    from model_registry.names import deploy_pipeline_name
    from pipelines.promotion import answer, pending

    cfg = load(args)
    cp = client("codepipeline", cfg.aws.region)
    pipeline = args.pipeline or deploy_pipeline_name(cfg.deploy.endpoint_name)
    approval = pending(cp, pipeline, args.execution_id, args.model_package_arn)
    verb = "approved" if args.approve else "rejected"
    answer(cp, approval, args.approve, args.summary or f"{verb} with rtb-mlops promote")
    print(f"{pipeline} {args.execution_id}: {approval.stage}.{approval.action} {verb} for {approval.package_arn}")
    if approval.message:
        print(f"  the approval said: {approval.message}")
    return 0
