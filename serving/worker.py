"""One worker process: load the model safely, pick a predictor, serve on an inherited socket.

python -m serving.worker --fd N --model-artifact PATH [--predictor KIND] [limits] --ready-fd R --lifeline-fd L
(started by `serving.server` through `serving.child.spawn`, which adds the last two).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import socket
import sys
from pathlib import Path

import numpy as np

from model_registry.artifact.validate import load_artifact
from serving.app import InferenceApp
from serving.child import LIFELINE_FLAG, READY_FLAG, hold_lifeline, signal_ready
from serving.http import HttpProtocol
from serving.limits import Limits
from serving.predictors import load_predictor

log = logging.getLogger("rtb_mlops.serving")


def build_app(artifact: Path, kind: str, limits: Limits) -> InferenceApp:
    _, booster = load_artifact(artifact)
    predictor = load_predictor(booster, kind)
    # The first call pays for lazy initialisation; do it before taking traffic.
    predictor.predict(np.zeros((1, predictor.num_features), dtype=np.float32))
    return InferenceApp(predictor, limits.slice_rows)


async def serve(sock: socket.socket, app: InferenceApp, limits: Limits, ready_fd: int) -> None:
    loop = asyncio.get_running_loop()
    connections: set[HttpProtocol] = set()
    server = await loop.create_server(lambda: HttpProtocol(app, limits, connections), sock=sock, backlog=2048)
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    signal_ready(ready_fd, f"ready {os.getpid()} {app.predictor.name}")
    await stop
    server.close()
    await server.wait_closed()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="serving.worker")
    p.add_argument("--fd", type=int, required=True)
    p.add_argument("--model-artifact", type=Path, required=True)
    p.add_argument("--predictor", choices=["auto", "xgboost", "compiled"], default="auto")
    Limits.add_arguments(p)
    p.add_argument(READY_FLAG, dest="ready_fd", type=int, required=True)
    p.add_argument(LIFELINE_FLAG, dest="lifeline_fd", type=int, required=True)
    args = p.parse_args(argv)
    hold_lifeline(args.lifeline_fd)
    logging.basicConfig(level=logging.INFO, format=f"[worker {os.getpid()}] %(message)s", stream=sys.stderr)
    limits = Limits.from_args(args)
    app = build_app(args.model_artifact, args.predictor, limits)
    sock = socket.socket(fileno=args.fd)
    import uvloop

    uvloop.run(serve(sock, app, limits, args.ready_fd))
    return 0


if __name__ == "__main__":
    sys.exit(main())
