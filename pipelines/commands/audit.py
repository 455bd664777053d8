"""`rtb-mlops audit (--endpoint NAME | --model-package ARN) [--format text|json|md|html]`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("audit", help="trace an endpoint or a model package back to its artifact and evidence")
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--endpoint")
    target.add_argument("--model-package")
    p.add_argument("--format", choices=["text", "json", "md", "html"], default="text")
    p.add_argument("--out", type=Path, help="write the report here instead of standard output")
    p.add_argument("--region")
    p.add_argument("--fail-on-findings", action="store_true", help="exit 3 when there is any finding")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from model_registry.audit import html, render
    from model_registry.audit.collect import AuditError, Clients, collect
    from model_registry.audit.findings import evaluate
    from model_registry.aws import client

    try:
        audit = evaluate(
            collect(
                Clients(client("sagemaker", args.region), client("s3", args.region)), args.endpoint, args.model_package
            )
        )
    except AuditError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    text = {"text": render.as_text, "json": render.as_json, "md": render.as_markdown, "html": html.as_html}[
        args.format
    ](audit)
    if args.out:
        args.out.write_text(text)
        print(f"{args.out}: {len(audit.findings)} finding(s)")
    else:
        sys.stdout.write(text)
    return 3 if args.fail_on_findings and audit.findings else 0
