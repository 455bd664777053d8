"""Sample payloads: the tar.gz of request bodies Inference Recommender replays.

Each file in the archive is one request body (`text/csv`, one or more rows).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model_registry.artifact.csv_rows import RowError, parse_rows
from model_registry.artifact.errors import ArtifactError
from model_registry.artifact.limits import DEFAULT_MAX_BYTES, QUOTE_CHARS, clip
from model_registry.artifact.tarball import read_members, write_tar_gz

MAX_PAYLOAD_FILES = 1000


@dataclass(frozen=True)
class SamplePayload:
    bodies: dict[str, bytes]
    num_rows: int
    matrix_width: int

    def matrix(self, num_features: int) -> np.ndarray:
        return np.vstack([parse_rows(b, num_features) for _, b in sorted(self.bodies.items())])


def _first_row_width(body: bytes) -> int:
    first = body.strip().split(b"\n", 1)[0]
    return len(first.split(b",")) if first else 0


def read_sample_payload(
    path: Path, num_features: int | None = None, max_bytes: int = DEFAULT_MAX_BYTES
) -> SamplePayload:
    """Every body must parse as CSV rows of `num_features` values (default: the first row's)."""
    bodies = read_members(path, max_members=MAX_PAYLOAD_FILES, max_bytes=max_bytes)
    if not bodies:
        raise ArtifactError(path, "sample payload archive holds no files")
    expected = num_features or _first_row_width(bodies[min(bodies)])
    rows = 0
    for name, body in sorted(bodies.items()):
        try:
            rows += len(parse_rows(body, expected))
        except RowError as exc:
            raise ArtifactError(f"{path}:{clip(name, QUOTE_CHARS)}", str(exc)) from None
    return SamplePayload(bodies=bodies, num_rows=rows, matrix_width=expected)


def payload_from_csv(csv_path: Path, out_path: Path, max_files: int = 100) -> SamplePayload:
    """Turn a CSV of rows (no header) into a payload archive, one row per request."""
    try:
        lines = [ln for ln in csv_path.read_bytes().splitlines() if ln.strip()]
    except OSError as exc:
        raise ArtifactError(csv_path, f"cannot read: {exc.strerror}") from None
    if not lines:
        raise ArtifactError(csv_path, "no rows")
    width = len(lines[0].split(b","))
    for i, line in enumerate(lines):
        try:
            parse_rows(line, width)
        except RowError as exc:
            raise ArtifactError(csv_path, f"line {i + 1}: {exc.reason}") from None
    files = {f"request-{i:04d}.csv": line + b"\n" for i, line in enumerate(lines[:max_files])}
    write_tar_gz(out_path, files)
    return SamplePayload(bodies=files, num_rows=len(files), matrix_width=width)
