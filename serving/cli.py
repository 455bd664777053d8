"""`python -m serving` / `rtb-mlops serve`: the model server (on 127.0.0.1 unless `--host` says
otherwise) until SIGTERM or Ctrl-C.

A person reads the `serving ... at URL` line on stdout; a program that starts the server
passes `--ready-fd` and reads the same line there (see `serving.child`), because stdout also
carries whatever native libraries print.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from serving.child import LIFELINE_FLAG, READY_FLAG, hold_lifeline, signal_ready
from serving.limits import Limits
from serving.server import LOOPBACK, Server, ServerError


def _workers(value: str) -> int:
    count = int(value)
    if count < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {count}")
    return count


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model-artifact", type=Path, required=True, help="model.tar.gz")
    p.add_argument("--port", type=int, default=8080, help="port to listen on (0: any free port)")
    p.add_argument("--host", default=LOOPBACK, help="address to bind (the container entrypoint binds 0.0.0.0)")
    p.add_argument("--workers", type=_workers, default=1, help="worker processes (one model each)")
    p.add_argument("--predictor", choices=["auto", "xgboost", "compiled"], default="auto")
    p.add_argument(
        "--startup-timeout", type=float, default=300.0, help="seconds the workers may take to load (and compile)"
    )
    p.add_argument(
        "--max-worker-restarts", type=int, default=5, help="worker deaths a minute before the server gives up"
    )
    Limits.add_arguments(p)
    p.add_argument(READY_FLAG, dest="ready_fd", type=int, help=argparse.SUPPRESS)
    p.add_argument(LIFELINE_FLAG, dest="lifeline_fd", type=int, help=argparse.SUPPRESS)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    hold_lifeline(args.lifeline_fd)
    server = Server(
        args.model_artifact,
        args.port,
        args.workers,
        args.predictor,
        args.startup_timeout,
        Limits.from_args(args),
        args.max_worker_restarts,
        args.host,
    )
    try:
        server.start()
    except ServerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    line = f"serving {args.model_artifact} at {server.url} ({args.workers} workers, predictor {server.predictors[0]})"
    print(line, flush=True)
    signal_ready(args.ready_fd, line)
    return server.wait()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="serving")
    configure(p)
    return run(p.parse_args(argv))
