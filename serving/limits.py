"""What one client may take from a worker: head size, time, connections.

The defaults follow what fronts the stock SageMaker containers (nginx: 60 s to send a request,
keep-alive connections closed after a minute idle), with a head limit far above any real
InvokeEndpoint request (SageMaker's own headers are a few hundred bytes). A worker refuses
the connection above its cap rather than let idle clients exhaust its file descriptors.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass, fields

from serving.app import DEFAULT_SLICE_ROWS


@dataclass(frozen=True)
class Limits:
    max_head_bytes: int = 64 * 1024  # request line and headers; above it: 431
    read_timeout: float = 60.0  # seconds from a request's first byte to its last; then 408
    idle_timeout: float = 60.0  # seconds a keep-alive connection may wait for its next request
    max_connections: int = 1024  # open connections per worker; above it: 503 and close
    slice_rows: int = DEFAULT_SLICE_ROWS  # rows scored before a worker turns to other requests

    @staticmethod
    def add_arguments(p: argparse.ArgumentParser) -> None:
        for f in fields(Limits):
            p.add_argument(f"--{f.name.replace('_', '-')}", type=_positive(f.type), default=f.default)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Limits:
        return cls(**{f.name: getattr(args, f.name) for f in fields(cls)})

    def to_args(self) -> list[str]:
        return [arg for f in fields(self) for arg in (f"--{f.name.replace('_', '-')}", str(getattr(self, f.name)))]


def _positive(kind: str):
    convert = int if kind == "int" else float

    def parse(value: str) -> int | float:
        number = convert(value)
        if not (math.isfinite(number) and number > 0):
            raise argparse.ArgumentTypeError(f"must be a positive, finite number, got {value}")
        return number

    return parse
