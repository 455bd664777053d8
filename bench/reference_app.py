"""A reference server built like the SageMaker XGBoost container's own request path.

Flask under gunicorn (gevent workers, as in the container); per request, what the
container's `serve_utils` and `encoder.csv_to_dmatrix` do: decode, `csv.Sniffer` on the
first line, a NumPy array of strings cast to float, a `DMatrix`, `Booster.predict`,
predictions joined with commas. The model is loaded once per worker through the same safe
loader as ours, so only the request path differs.

    MODEL_ARTIFACT=model.tar.gz gunicorn -k gevent -w 2 -b 127.0.0.1:PORT bench.reference_app:app
"""

import csv
import os
from pathlib import Path

import numpy as np
import xgboost as xgb
from flask import Flask, Response, request

from model_registry.artifact.validate import load_artifact

app = Flask(__name__)
_, booster = load_artifact(Path(os.environ["MODEL_ARTIFACT"]))
booster.set_param("nthread", 1)


def _clean(line: str, delimiter: str) -> list[str]:
    return ["nan" if x == "" else x for x in line.split(delimiter)]


def csv_to_dmatrix(payload: str) -> xgb.DMatrix:
    sniffed = csv.Sniffer().sniff(payload.split("\n")[0][:512]).delimiter
    delimiter = "," if sniffed.isalnum() else sniffed
    array = np.array([_clean(line, delimiter) for line in payload.split("\n")]).astype(np.float64)
    return xgb.DMatrix(array)


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
