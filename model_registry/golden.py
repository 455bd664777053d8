"""Golden requests: the sample payload's rows and the outputs the registered artifact gives
for them, computed with xgboost at registration and kept as an S3 object the package names
(with its sha256) in `CustomerMetadataProperties`.

A deployed endpoint is checked against it: the rows sent, the answers compared within a
tolerance. The record is plain JSON and this module needs the standard library only.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass

from model_registry.errors import UserError

FORMAT = "rtb-mlops/golden-requests/v1"
FILE_NAME = "golden.json"


class InvalidGolden(UserError):
    """A golden object that cannot be read as one, or is not the one the package recorded."""


@dataclass(frozen=True)
class GoldenRecord:
    rows: tuple[str, ...]
    expected: tuple[float, ...]
    artifact_sha256: str
    xgboost_version: str

    def __post_init__(self) -> None:
        if not self.rows or len(self.rows) != len(self.expected):
            raise InvalidGolden(f"golden record needs one expected output per row, got {len(self.rows)} rows and"
                                f" {len(self.expected)} outputs")  # fmt: skip

    def to_bytes(self) -> bytes:
        doc = {
            "format": FORMAT,
            "artifact_sha256": self.artifact_sha256,
            "xgboost_version": self.xgboost_version,
            "rows": list(self.rows),
            # repr keeps every bit of the float; json would too, this says so.
            "expected": [float(repr(v)) for v in self.expected],
        }
        return json.dumps(doc, indent=1).encode()

    @classmethod
    def from_bytes(cls, data: bytes, where: str) -> GoldenRecord:
        try:
            doc = json.loads(data)
            if doc.get("format") != FORMAT:
                raise ValueError(f"format is {str(doc.get('format'))[:60]!r}, expected {FORMAT!r}")
            rows = tuple(str(r) for r in doc["rows"])
            expected = tuple(float(v) for v in doc["expected"])
            if not all(math.isfinite(v) for v in expected):
                raise ValueError("an expected output is not a finite number")
            return cls(rows, expected, str(doc["artifact_sha256"]), str(doc.get("xgboost_version", "")))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise InvalidGolden(f"{where}: not a golden-requests record: {exc}") from None


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def verified(data: bytes, recorded_sha256: str, where: str) -> GoldenRecord:
    """The record, only if its bytes are the ones whose digest the package recorded."""
    actual = sha256_of(data)
    if actual != recorded_sha256:
        raise InvalidGolden(
            f"{where}: sha256 {actual[:16]}… differs from the {recorded_sha256[:16] or 'missing'}… recorded with the"
            " package; the golden outputs were changed after registration and are not trusted"
        )
    return GoldenRecord.from_bytes(data, where)


@dataclass(frozen=True)
class Mismatch:
    index: int
    row: str
    expected: float
    served: float | None

    def describe(self) -> str:
        got = "no answer" if self.served is None else repr(self.served)
        diff = "" if self.served is None else f" (|diff| {abs(self.served - self.expected):.3g})"
        return f"row {self.index + 1}: {self.row} -> served {got}, expected {self.expected!r}{diff}"


def compare(record: GoldenRecord, served: list[float], tolerance: float) -> list[Mismatch]:
    """The rows whose served output is missing, not a number, or further than `tolerance`."""
    out = []
    for i, (row, want) in enumerate(zip(record.rows, record.expected, strict=True)):
        got = served[i] if i < len(served) else None
        if got is None or not math.isfinite(got) or abs(got - want) > tolerance:
            out.append(Mismatch(i, row, want, got))
    return out


def max_difference(record: GoldenRecord, served: list[float]) -> float:
    diffs = [abs(g - w) for g, w in zip(served, record.expected, strict=False) if math.isfinite(g)]
    return max(diffs, default=math.inf)
