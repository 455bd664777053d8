"""`rtb-mlops deploy --model-package-arn ARN [--wait]`: the deploy Lambda's code path, run by
CodePipeline (buildspec.yml) or a person."""

from __future__ import annotations

import argparse
import json
import sys
import time

from pipelines.commands.common import add_config_flags, load

_SETTLED = ("InService", "Failed")


def add(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("deploy", help="deploy an approved model package version (the Lambda's code path)")
    add_config_flags(p)
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--model-package-arn")
    target.add_argument("--latest-approved", action="store_true", help="the group's newest approved version")
    p.add_argument(
        "--staging",
        action="store_true",
        help="deploy to <endpoint>-staging with deploy.staging_min/max_instances (the CodePipeline path)",
    )
    p.add_argument("--wait", action="store_true", help="wait for InService, then apply autoscaling")
    p.add_argument("--timeout", type=int, default=3600, help="seconds to wait (default 3600)")
    p.set_defaults(func=run)


def wait_in_service(sm, endpoint: str, timeout: int, poll: float = 5.0) -> str:
    began, last = time.monotonic(), ""
    while True:
        status = sm.describe_endpoint(EndpointName=endpoint)["EndpointStatus"]
        elapsed = time.monotonic() - began
        if status != last:
            print(f"[{elapsed:6.0f}s] endpoint {endpoint}: {status}", flush=True)
            last = status
        if status in _SETTLED:
            return status
        if elapsed > timeout:
            raise TimeoutError(f"endpoint {endpoint} still {status} after {timeout} s")
        time.sleep(poll)


def run(args: argparse.Namespace) -> int:
    from deploy_lambda.handler import deployer
    from model_registry import packages
    from pipelines.deploy_settings import lambda_settings

    cfg = load(args)
    settings = lambda_settings(cfg, staging=args.staging)
    d = deployer(settings, cfg.aws.region)
    arn = args.model_package_arn
    if args.latest_approved:
        latest = packages.latest_approved(d.sm, cfg.registry.model_package_group)
        if latest is None:
            print(f"error: no approved version in {cfg.registry.model_package_group}", file=sys.stderr)
            return 1
        arn = latest.arn
    print(json.dumps(d.deploy(arn).to_dict()))
    if not args.wait:
        return 0
    if wait_in_service(d.sm, settings.endpoint_name, args.timeout) != "InService":
        return 1
    print(json.dumps(d.on_in_service().to_dict()))
    return 0
