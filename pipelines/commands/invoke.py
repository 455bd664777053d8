"""`rtb-mlops invoke --endpoint NAME --body ROWS`: call an endpoint (SageMaker runtime)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("invoke", help="send CSV rows to an endpoint and print its answer")
    p.add_argument("--endpoint", required=True)
    body = p.add_mutually_exclusive_group(required=True)
    body.add_argument("--body", help="CSV rows; \\n separates rows")
    body.add_argument("--body-file", type=Path)
    p.add_argument("--content-type", default="text/csv")
    p.add_argument("--region")
    p.set_defaults(func=run)


def invoke(endpoint: str, body: bytes, content_type: str = "text/csv", region: str | None = None) -> str:
    from model_registry.aws import client

    resp = client("sagemaker-runtime", region).invoke_endpoint(
        EndpointName=endpoint, Body=body, ContentType=content_type
    )
    return resp["Body"].read().decode()


def run(args: argparse.Namespace) -> int:
    body = args.body_file.read_bytes() if args.body_file else args.body.replace("\\n", "\n").encode()
    sys.stdout.write(invoke(args.endpoint, body, args.content_type, args.region))
    return 0
