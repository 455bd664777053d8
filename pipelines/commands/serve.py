"""`rtb-mlops serve`: the model server on 127.0.0.1, until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model-artifact", type=Path, required=True, help="model.tar.gz")
    p.add_argument("--port", type=int, default=8080, help="port on 127.0.0.1 (0: any free port)")
    p.add_argument("--workers", type=int, default=1, help="worker processes (one model each)")
    p.add_argument("--predictor", choices=["auto", "xgboost", "compiled"], default="auto")
    p.set_defaults(func=run)


def add(sub: argparse._SubParsersAction) -> None:
    configure(sub.add_parser("serve", help="serve a model.tar.gz with the SageMaker container contract"))


def run(args: argparse.Namespace) -> int:
    from model_registry.errors import UserError
    from serving.server import Server, ServerError

    if args.workers < 1:
        raise UserError(f"--workers must be at least 1, got {args.workers}")
    server = Server(args.model_artifact, args.port, args.workers, args.predictor)
    try:
        server.start()
    except ServerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(
        f"serving {args.model_artifact} at {server.url} ({args.workers} workers, predictor {server.predictors[0]})",
        flush=True,
    )
    return server.wait()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="serving")
    configure(p)
    return run(p.parse_args(argv))
