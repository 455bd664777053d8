"""`rtb-mlops registry ...`: the model package group, its versions and their approval."""

from __future__ import annotations

import argparse
import json

from pipelines.commands.common import add_config_flags, load


def add(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("registry", help="list, approve or reject model package versions")
    verbs = p.add_subparsers(dest="verb", required=True)
    ls = verbs.add_parser("list", help="versions of the group, newest first")
    add_config_flags(ls)
    ls.add_argument("--group", help="model package group (default: from the configuration)")
    ls.set_defaults(func=list_versions)
    latest = verbs.add_parser("latest-approved", help="the newest approved version's ARN")
    add_config_flags(latest)
    latest.add_argument("--group")
    latest.set_defaults(func=latest_approved)
    hist = verbs.add_parser("history", help="one row per version: status, who/when, gate, recommendation, deployment")
    add_config_flags(hist)
    hist.add_argument("group", nargs="?", help="model package group (default: from the configuration)")
    hist.set_defaults(func=history)
    for verb, status in (("approve", "Approved"), ("reject", "Rejected")):
        v = verbs.add_parser(verb, help=f"set a version {status}, with the reason")
        add_config_flags(v)
        v.add_argument("model_package_arn")
        v.add_argument("--description", required=True, help="why (kept in ApprovalDescription)")
        v.set_defaults(func=set_status, status=status)


def _sm(args: argparse.Namespace):
    from model_registry.aws import client

    cfg = load(args)
    return client("sagemaker", cfg.aws.region), (getattr(args, "group", None) or cfg.registry.model_package_group)


def list_versions(args: argparse.Namespace) -> int:
    from model_registry import packages

    sm, group = _sm(args)
    for v in packages.list_versions(sm, group):
        created = v.creation_time.isoformat(timespec="seconds") if v.creation_time else "-"
        print(f"{v.version:>4}  {v.approval_status:<22} {created}  {v.arn}")
    return 0


def history(args: argparse.Namespace) -> int:
    from model_registry.audit.history import history as rows_of

    sm, group = _sm(args)
    rows = rows_of(sm, group)
    print(f"{'ver':>4}  {'status':<22} {'by':<30} {'when':<20} {'gate':<28} {'recommended':<18} deployed")
    for r in rows:
        when = r.when.strftime("%Y-%m-%d %H:%M:%S") if r.when else "-"
        print(
            f"{r.version:>4}  {r.status:<22} {r.by[-30:]:<30} {when:<20} {r.gate[:28]:<28}"
            f" {r.recommended:<18} {r.deployed}"
        )
    return 0


def latest_approved(args: argparse.Namespace) -> int:
    from model_registry import packages

    sm, group = _sm(args)
    version = packages.latest_approved(sm, group)
    if version is None:
        print(f"no approved version in {group}")
        return 1
    print(version.arn)
    return 0


def set_status(args: argparse.Namespace) -> int:
    from model_registry import packages

    sm, _ = _sm(args)
    packages.set_approval(sm, args.model_package_arn, args.status, args.description)
    after = packages.describe(sm, args.model_package_arn)
    print(
        json.dumps(
            {"arn": after.arn, "approval_status": after.approval_status, "description": after.approval_description}
        )
    )
    return 0
