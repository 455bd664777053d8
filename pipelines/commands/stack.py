"""`rtb-mlops stack deploy`: the deploy Lambda, its role, rules and DLQ, via CloudFormation;
`rtb-mlops stack image-repository`: the serving image's ECR repository (CodeBuild's image stage)."""

from __future__ import annotations

import argparse
import json

from pipelines.commands.common import add_config_flags, load


def add(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("stack", help="deploy the deploy-Lambda CloudFormation stack")
    verbs = p.add_subparsers(dest="verb", required=True)
    d = verbs.add_parser("deploy", help="zip and upload the Lambda code, create or update the stack")
    add_config_flags(d)
    d.set_defaults(func=run)
    r = verbs.add_parser("image-repository", help="create or update the serving image's ECR repository stack")
    add_config_flags(r)
    r.set_defaults(func=run_image_repository)


def run(args: argparse.Namespace) -> int:
    from pipelines.stack import deploy_stack, stack_name

    cfg = load(args)
    outputs = deploy_stack(cfg)
    print(json.dumps({"stack": stack_name(cfg), **outputs}, indent=2))
    return 0


def run_image_repository(args: argparse.Namespace) -> int:
    from pipelines.stack import IMAGE_REPOSITORY_STACK, deploy_image_repository_stack

    outputs = deploy_image_repository_stack(load(args))
    print(json.dumps({"stack": IMAGE_REPOSITORY_STACK, **outputs}, indent=2))
    return 0
