"""Parsing `text/csv` request rows into a feature matrix, as the serving container does.

One row per line, no header, empty fields are missing values. Shared by the model server
and the sample-payload check so both accept exactly the same input.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from model_registry.errors import UserError


class RowError(UserError):
    def __init__(self, line: int, reason: str):
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


def _value(field: bytes, line: int, column: int) -> float:
    text = field.strip()
    if not text:
        return math.nan
    try:
        return float(text)
    except ValueError:
        shown = text[:40].decode("utf-8", "replace")
        raise RowError(line, f"column {column}: {shown!r} is not a number") from None


def split_lines(body: bytes) -> list[bytes]:
    """The body's rows; RowError when there are none."""
    lines = body.strip().split(b"\n")
    if lines == [b""]:
        raise RowError(1, "no rows")
    return lines


def line_slices(body: bytes, rows: int) -> Iterator[list[bytes]]:
    """The body's lines, `rows` at a time, without splitting (or copying) all of it at once."""
    body = body.strip()
    if not body:
        raise RowError(1, "no rows")
    start = 0
    while True:
        end = start
        for _ in range(rows):
            end = body.find(b"\n", end)
            if end < 0:
                yield body[start:].split(b"\n")
                return
            end += 1
        yield body[start : end - 1].split(b"\n")
        start = end


def parse_lines(lines: list[bytes], num_features: int, first_line: int = 1) -> np.ndarray:
    """A float32 matrix (rows x num_features); RowError names the first bad line, counted from `first_line`."""
    out = np.empty((len(lines), num_features), dtype=np.float32)
    for i, line in enumerate(lines):
        fields = line.rstrip(b"\r").split(b",")
        if len(fields) != num_features:
            raise RowError(first_line + i, f"{len(fields)} fields, expected {num_features}")
        try:
            out[i] = [float(f) for f in fields]
        except ValueError:
            out[i] = [_value(f, first_line + i, c + 1) for c, f in enumerate(fields)]
    return out


def parse_rows(body: bytes, num_features: int) -> np.ndarray:
    """A float32 matrix (rows x num_features); RowError names the first bad line."""
    return parse_lines(split_lines(body), num_features)
