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
    reg = verbs.add_parser("register", help="register a validated version outside the pipeline (left pending)")
    add_config_flags(reg)
    reg.add_argument("--artifact", help="model.tar.gz, local or s3:// (default: from the configuration)")
    reg.add_argument("--payload", help="sample payload tar.gz or CSV of rows, local or s3://")
    reg.set_defaults(func=register)
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


def register(args: argparse.Namespace) -> int:
    """The same checks and uploads as run-pipeline, then CreateModelPackage; no recommendation,
    so the deploy path refuses it until a pipeline has recommended and gated it."""
    from model_registry import packages
    from model_registry.aws import client
    from pipelines import ecr_image, sdk_env
    from pipelines.commands.common import source_commit
    from pipelines.inputs import resolve

    extra = [f"model.artifact={args.artifact}"] if args.artifact else []
    extra += [f"model.sample_payload={args.payload}"] if args.payload else []
    cfg = load(args, extra)
    sdk_env.prepare(cfg.aws.region)
    from pipelines.definition import FRAMEWORK_VERSIONS, REPOSITORY, serving_image

    sm = client("sagemaker", cfg.aws.region)
    inputs = resolve(cfg, client("s3", cfg.aws.region), cfg.model.artifact, cfg.model.sample_payload)
    ecr_image.require(cfg.serving.image_uri)
    packages.ensure_group(sm, cfg.registry.model_package_group, "RTB bid-request filter versions (rtb-mlops)")
    arn = packages.register_version(
        sm,
        packages.Registration(
            group=cfg.registry.model_package_group,
            image_uri=serving_image(cfg),
            model_data_url=inputs.artifact_uri,
            sample_payload_url=inputs.payload_uri,
            framework_version=FRAMEWORK_VERSIONS[cfg.model.xgboost_container_version],
            instance_types=tuple(cfg.recommender.instance_types),
            artifact_sha256=inputs.sha256,
            golden_uri=inputs.golden_uri,
            golden_sha256=inputs.golden_sha256,
            commit=source_commit(),
            repository=REPOSITORY,
            generated_by="rtb-mlops registry register",
            fast_image_uri=cfg.serving.image_uri,
        ),
    )
    print(
        json.dumps(
            {"arn": arn, "sha256": inputs.sha256, "artifact": inputs.artifact_uri, "payload": inputs.payload_uri}
        )
    )
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
