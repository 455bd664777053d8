"""`rtb-mlops stack deploy [--cicd]`: the deploy Lambda, its role, rules and DLQ, via CloudFormation;
with --cicd also the CodePipeline path (pipelines/templates/cicd.yaml) and the project's source;
`rtb-mlops stack image-repository`: the serving image's ECR repository (CodeBuild's image stage)."""

from __future__ import annotations

import argparse
import json
import subprocess

from model_registry.errors import UserError
from pipelines.commands.common import add_config_flags, load


def add(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("stack", help="deploy the deploy-Lambda CloudFormation stack")
    verbs = p.add_subparsers(dest="verb", required=True)
    d = verbs.add_parser("deploy", help="zip and upload the Lambda code, create or update the stack")
    add_config_flags(d)
    d.add_argument(
        "--cicd",
        action="store_true",
        help="also the model build and model deploy CodePipelines (needs deploy.path=codepipeline)",
    )
    d.set_defaults(func=run)
    r = verbs.add_parser("image-repository", help="create or update the serving image's ECR repository stack")
    add_config_flags(r)
    r.set_defaults(func=run_image_repository)


def run(args: argparse.Namespace) -> int:
    from pipelines.stack import cicd_stack_name, deploy_cicd_stack, deploy_stack, stack_name

    cfg = load(args)
    if args.cicd:
        outputs = deploy_cicd_stack(cfg, source_zip())
        print(json.dumps({"stack": cicd_stack_name(cfg), **outputs}, indent=2))
        return 0
    outputs = deploy_stack(cfg)
    print(json.dumps({"stack": stack_name(cfg), **outputs}, indent=2))
    return 0


def run_image_repository(args: argparse.Namespace) -> int:
    from pipelines.stack import IMAGE_REPOSITORY_STACK, deploy_image_repository_stack

    outputs = deploy_image_repository_stack(load(args))
    print(json.dumps({"stack": IMAGE_REPOSITORY_STACK, **outputs}, indent=2))
    return 0


def source_zip() -> bytes:
    """The checkout's committed tree (what CodeBuild runs buildspec.yml from), as a zip."""
    out = subprocess.run(["git", "archive", "--format=zip", "HEAD"], capture_output=True, timeout=120, check=False)
    if out.returncode != 0:
        raise UserError(
            f"stack deploy --cicd ships the checkout's HEAD: git archive failed: {out.stderr.decode()[:300]}"
        )
    return out.stdout
