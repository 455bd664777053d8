"""`rtb-mlops artifact validate|convert`: check an artifact, or re-save it as JSON."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from model_registry.artifact.limits import MAX_BYTES_ENV, max_bytes_from_env, parse_size
from pipelines.config import XGBOOST_CONTAINER_VERSIONS


def add(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("artifact", help="validate or convert a model.tar.gz")
    verbs = p.add_subparsers(dest="verb", required=True)
    v = verbs.add_parser("validate", help="check an artifact as registration would")
    v.add_argument("artifact", type=Path)
    v.add_argument("--payload", type=Path, help="sample payload tar.gz to check the feature count against")
    v.add_argument("--container-version", default="3.0-5", choices=XGBOOST_CONTAINER_VERSIONS)
    v.add_argument(
        "--max-bytes",
        type=parse_size,
        help=f"refuse an artifact that inflates to, or asks to allocate, more than this"
        f" (e.g. 512MiB; default ${MAX_BYTES_ENV}, else 1GiB)",
    )
    v.set_defaults(func=validate)
    c = verbs.add_parser("convert", help="re-save an artifact's model as JSON, the portable format")
    c.add_argument("artifact", type=Path)
    c.add_argument("out", type=Path)
    c.set_defaults(func=convert)


def validate(args: argparse.Namespace) -> int:
    from model_registry.artifact.validate import validate_artifact

    max_bytes = args.max_bytes or max_bytes_from_env()
    report = validate_artifact(args.artifact, args.container_version, args.payload, max_bytes)
    print(json.dumps(report.to_dict(), indent=2))
    return 0


def convert(args: argparse.Namespace) -> int:
    from model_registry.artifact.tarball import write_tar_gz
    from model_registry.artifact.validate import MODEL_FILE_NAME, load_artifact, sha256_file

    model, booster = load_artifact(args.artifact, max_bytes_from_env())
    write_tar_gz(args.out, {MODEL_FILE_NAME: bytes(booster.save_raw("json"))})
    print(
        json.dumps(
            {
                "from": str(args.artifact),
                "format": model.format.value,
                "to": str(args.out),
                "sha256": sha256_file(args.out),
            }
        )
    )
    return 0
