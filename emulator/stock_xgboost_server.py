"""A server built like the SageMaker XGBoost container's own request path: what serves the
package's primary (stock image) inference specification in the emulator.

Flask under gunicorn with gevent workers, as in the container; per request, what the
container's `serve_utils` and `encoder.csv_to_dmatrix` do: decode, `csv.Sniffer` on the
first line, a NumPy array of strings cast to float, a `DMatrix`, `Booster.predict`,
predictions joined with commas. The model is loaded once per worker through the same safe
loader as serving/, so only the request path differs. (The container also puts nginx in
front; this does not.)

    python -m emulator.stock_xgboost_server --model-artifact model.tar.gz --port 0 --workers 1

Started by the emulator (emulator.model_servers) and by bench/serving.py. Like serving/, it
says it is ready on its own pipe (`serving.child`) and dies with its parent.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np
import xgboost as xgb
from flask import Flask, Response, request
from gunicorn.app.base import BaseApplication

from model_registry.artifact.validate import load_artifact
from serving.child import LIFELINE_FLAG, READY_FLAG, hold_lifeline, signal_ready

HOST = "127.0.0.1"


def _clean(line: str, delimiter: str) -> list[str]:
    return ["nan" if x == "" else x for x in line.split(delimiter)]


def csv_to_dmatrix(payload: str) -> xgb.DMatrix:
    sniffed = csv.Sniffer().sniff(payload.split("\n")[0][:512]).delimiter
    delimiter = "," if sniffed.isalnum() else sniffed
    array = np.array([_clean(line, delimiter) for line in payload.split("\n")]).astype(np.float64)
    return xgb.DMatrix(array)


def create_app(artifact: Path) -> Flask:
    app = Flask(__name__)
    _, booster = load_artifact(artifact)
    booster.set_param("nthread", 1)

    @app.route("/ping", methods=["GET"])
    def ping() -> Response:
        return Response(status=200)

    @app.route("/invocations", methods=["POST"])
    def invocations() -> Response:
        if (request.content_type or "text/csv").split(";")[0].strip().lower() != "text/csv":
            return Response("unsupported content type", status=415)
        try:
            dmatrix = csv_to_dmatrix(request.get_data().strip().decode("utf-8"))
        except Exception as exc:
            return Response(f"Loading csv data failed: {exc}", status=400)
        predictions = booster.predict(dmatrix, validate_features=False)
        return Response(",".join(map(str, predictions.tolist())), mimetype="text/csv")

    return app


class _Gunicorn(BaseApplication):
    """gunicorn run from Python: each worker loads the model itself, as the container's do."""

    def __init__(self, args: argparse.Namespace):
        self.args = args
        super().__init__()

    def load_config(self) -> None:
        self.cfg.set("bind", f"{HOST}:{self.args.port}")
        self.cfg.set("workers", self.args.workers)
        self.cfg.set("worker_class", "gevent")
        self.cfg.set("loglevel", "warning")
        self.cfg.set("post_worker_init", self._worker_ready)

    def load(self) -> Flask:
        return create_app(self.args.model_artifact)

    def _worker_ready(self, worker) -> None:
        """The first worker to load its model says the server is ready (the others find the
        pipe already answered and closed)."""
        port = worker.sockets[0].getsockname()[1]
        line = (
            f"serving {self.args.model_artifact} at http://{HOST}:{port} "
            f"(stock XGBoost container request path, {self.args.workers} gevent workers)"
        )
        try:
            signal_ready(self.args.ready_fd, line)
        except OSError:
            pass


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="emulator.stock_xgboost_server")
    p.add_argument("--model-artifact", type=Path, required=True)
    p.add_argument("--port", type=int, default=8080, help="port on 127.0.0.1 (0: any free port)")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument(READY_FLAG, dest="ready_fd", type=int)
    p.add_argument(LIFELINE_FLAG, dest="lifeline_fd", type=int)
    args = p.parse_args(argv)
    hold_lifeline(args.lifeline_fd)
    _Gunicorn(args).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
