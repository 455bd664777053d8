"""The golden outputs of an artifact: what xgboost itself answers for the sample payload's
rows, computed at registration from the very bytes that are registered."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xgboost as xgb

from model_registry.artifact.booster import facts
from model_registry.artifact.csv_rows import parse_lines, split_lines
from model_registry.artifact.limits import DEFAULT_MAX_BYTES
from model_registry.artifact.payload import read_sample_payload
from model_registry.artifact.validate import load_artifact, sha256_file
from model_registry.golden import GoldenRecord


def golden_record(model_path: Path, payload_path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> GoldenRecord:
    """Every row of every request body, in the payload's file order, with the model's output."""
    _, booster = load_artifact(model_path, max_bytes)
    width = facts(booster).num_features
    payload = read_sample_payload(payload_path, width, max_bytes)
    lines = [line.rstrip(b"\r") for _, body in sorted(payload.bodies.items()) for line in split_lines(body)]
    # The float32 matrix the serving container parses the same text into.
    scores = booster.inplace_predict(parse_lines(lines, width)).astype(np.float32)
    return GoldenRecord(
        rows=tuple(line.decode() for line in lines),
        expected=tuple(float(s) for s in scores),
        artifact_sha256=sha256_file(model_path),
        xgboost_version=xgb.__version__,
    )
