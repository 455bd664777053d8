"""`rtb-mlops check --endpoint NAME [--tolerance T] [--model-package-arn ARN] [--serves-only]`: the
golden-request check (pipelines/golden_check.py); exit 1 when a row differs, 2 when it cannot be
checked. `--serves-only` only confirms the endpoint serves the named package (a CodePipeline
stage's guard before it acts on an endpoint)."""

from __future__ import annotations

import argparse
import sys

MAX_ROWS_SHOWN = 20


def add(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check", help="compare an endpoint's answers with the golden outputs recorded at registration")
    p.add_argument("--endpoint", required=True)
    p.add_argument("--tolerance", type=float, default=1e-6, help="largest |served - expected| allowed (default 1e-6)")
    p.add_argument(
        "--model-package-arn",
        help="refuse unless the endpoint serves this package (CodePipeline passes the approved one)",
    )
    p.add_argument(
        "--serves-only", action="store_true", help="only confirm the endpoint serves --model-package-arn; send nothing"
    )
    p.add_argument("--region")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from model_registry import lineage
    from model_registry.aws import client
    from pipelines.golden_check import check, record, serving

    if args.serves_only:
        if not args.model_package_arn:
            print("error: --serves-only needs --model-package-arn", file=sys.stderr)
            return 2
        serving(client("sagemaker", args.region), args.endpoint, args.model_package_arn)
        print(f"{args.endpoint} serves {args.model_package_arn}")
        return 0
    if not args.tolerance >= 0:
        print(f"error: --tolerance must be a non-negative number, got {args.tolerance}", file=sys.stderr)
        return 2
    sm = client("sagemaker", args.region)
    result, served = check(
        sm,
        client("s3", args.region),
        client("sagemaker-runtime", args.region),
        args.endpoint,
        args.tolerance,
        args.model_package_arn,
    )
    lineage.best_effort("golden check", lambda: print(f"recorded as {record(sm, result, served)}"))
    print(
        f"{args.endpoint} serves {result.package_arn}: {result.rows} golden rows,"
        f" max |diff| {result.max_abs_diff:.3g}, tolerance {result.tolerance:g}"
    )
    if result.passed:
        print("golden check: passed")
        return 0
    print(f"golden check: FAILED, {len(result.mismatches)} of {result.rows} rows differ:", file=sys.stderr)
    for m in result.mismatches[:MAX_ROWS_SHOWN]:
        print(f"  {m.describe()}", file=sys.stderr)
    if len(result.mismatches) > MAX_ROWS_SHOWN:
        print(f"  ... and {len(result.mismatches) - MAX_ROWS_SHOWN} more", file=sys.stderr)
    return 1
