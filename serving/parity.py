"""Do the compiled predictor's outputs match xgboost's? A verdict, as data.

    python -m serving.parity --model-artifact PATH --payload PATH --out parity.json [--tolerance 1e-6]

`--model-artifact`: a model.tar.gz, or the directory SageMaker extracted one into.
`--payload`: the sample payload, either a CSV of rows (no header, empty fields missing) or the
payload.tar.gz of request bodies registered with the model.

Both predictors score the payload's rows and the generated probes of `serving.probe_rows`
(missing, zero, ±1e30 and ±inf values, every split threshold and its float32 neighbours, seeded
random rows). `--out` gets:

    {"passed": bool,              every row within the tolerance, and the compiled model built
     "rows_checked": int,         rows scored by both (0 when the model could not be compiled)
     "max_abs_diff": float|null,  largest |compiled - xgboost|; null when no row was scored or an
                                  output was not a number
     "tolerance": float,
     "reason": str,               one sentence for results.json and the gate's decision
     "worst_rows": [              up to 5, largest difference first
        {"source": str, "row": "csv as sent", "xgboost": float|null, "compiled": float|null,
         "abs_diff": float|null}]}

Exit status 0 whatever the verdict; 2 when an input cannot be read (the error names the file).
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import xgboost as xgb

from model_registry.artifact.csv_rows import RowError, parse_rows
from model_registry.artifact.errors import ArtifactError
from model_registry.artifact.payload import read_sample_payload
from model_registry.artifact.validate import load_artifact
from model_registry.errors import UserError
from serving.predictors import Predictor, XGBoostPredictor, load_predictor
from serving.probe_rows import probe_rows

DEFAULT_TOLERANCE = 1e-6
WORST_ROWS = 5


@dataclass(frozen=True)
class RowDiff:
    source: str
    row: str
    xgboost: float | None
    compiled: float | None
    abs_diff: float | None


@dataclass(frozen=True)
class ParityReport:
    passed: bool
    rows_checked: int
    max_abs_diff: float | None
    tolerance: float
    reason: str
    worst_rows: list[RowDiff] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _csv(row: np.ndarray) -> str:
    """The row as a request would send it: empty for missing, `inf`/`-inf` as the parser reads them."""
    return ",".join("" if math.isnan(v) else repr(float(v)) for v in row.tolist())


def compare(
    reference: Predictor, compiled: Predictor, rows: np.ndarray, sources: list[str], tolerance: float
) -> ParityReport:
    expected = reference.predict(rows).astype(np.float64)
    got = compiled.predict(rows).astype(np.float64)
    diff = np.abs(got - expected)
    diff[~np.isfinite(diff)] = np.inf  # NaN from either side is a mismatch, and sorts first
    worst = np.argsort(-diff, kind="stable")[:WORST_ROWS]
    worst_rows = [
        RowDiff(sources[i], _csv(rows[i]), _finite(expected[i]), _finite(got[i]), _finite(diff[i])) for i in worst
    ]
    largest = float(diff.max())
    bad = int((diff > tolerance).sum())
    if bad == 0:
        reason = f"compiled outputs within {tolerance:g} of xgboost's on all {len(rows)} rows (max {largest:.3g})"
    else:
        shown = f"{largest:.3g}" if math.isfinite(largest) else "a non-number output"
        reason = (
            f"compiled outputs differ from xgboost's by more than {tolerance:g} on {bad} of {len(rows)} rows"
            f" (worst: {shown}, {sources[worst[0]]})"
        )
    return ParityReport(bad == 0, len(rows), _finite(largest), tolerance, reason, worst_rows)


def check_model(
    booster: xgb.Booster, payload: np.ndarray, tolerance: float = DEFAULT_TOLERANCE, compiled: Predictor | None = None
) -> ParityReport:
    """`compiled` defaults to the library `serving.compiler` builds, as the server loads it."""
    if compiled is None:
        try:
            compiled = load_predictor(booster, "compiled")
        except Exception as exc:  # the verdict names whatever stopped the compile (no gcc, treelite refusal)
            why = f"compiled predictor unavailable: {type(exc).__name__}: {exc}"
            return ParityReport(False, 0, None, tolerance, why)
    probes = probe_rows(booster, payload)
    return compare(XGBoostPredictor(booster), compiled, probes.matrix, probes.sources, tolerance)


def read_payload(path: Path, num_features: int) -> np.ndarray:
    """A CSV of rows, or the registered payload.tar.gz (told apart by gzip's magic bytes)."""
    try:
        with open(path, "rb") as fh:
            is_gzip = fh.read(2) == b"\x1f\x8b"
    except OSError as exc:
        raise ArtifactError(path, f"cannot read: {exc.strerror}") from None
    if is_gzip:
        return read_sample_payload(path, num_features).matrix(num_features)
    try:
        return parse_rows(path.read_bytes(), num_features)
    except RowError as exc:
        raise ArtifactError(path, str(exc)) from None


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="serving.parity", description=__doc__.split("\n\n")[0])
    p.add_argument("--model-artifact", type=Path, required=True, help="model.tar.gz or an extracted model directory")
    p.add_argument("--payload", type=Path, required=True, help="CSV rows, or the sample payload.tar.gz")
    p.add_argument("--out", type=Path, required=True, help="where the JSON verdict goes")
    p.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE, help="absolute; default %(default)g")
    args = p.parse_args(argv)
    try:
        _, booster = load_artifact(args.model_artifact)
        payload = read_payload(args.payload, booster.num_features())
    except (UserError, gzip.BadGzipFile) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    report = check_model(booster, payload, args.tolerance)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report.to_dict(), indent=2, allow_nan=False) + "\n")
    print(("PASS: " if report.passed else "MISMATCH: ") + report.reason)
    return 0


if __name__ == "__main__":
    sys.exit(main())
