"""`rtb-mlops example-model`: build the deterministic example bid filter."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path


def add(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("example-model", help="build a deterministic example bid-filtering model and sample payload")
    p.add_argument("--out", default="build/example", help="output folder (default: build/example)")
    p.add_argument("--rows", type=int, default=100_000, help="synthetic bid requests to generate")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from model_registry.example_model import build_example_model

    result = build_example_model(Path(args.out), rows=args.rows)
    print(json.dumps(asdict(result), indent=2))
    return 0
