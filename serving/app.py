"""The SageMaker inference container contract, independent of the HTTP machinery.

GET  /ping         200 once the model is loaded
POST /invocations  text/csv rows in, one probability per line out
                   415 other content types, 400 bad rows, 413 above 6 MB
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass

from model_registry.artifact.csv_rows import RowError, line_slices, parse_lines
from serving.predictors import Predictor

# SageMaker real-time InvokeEndpoint accepts payloads up to 6 MB.
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
CSV = b"text/csv"
# Rows parsed and scored before the worker turns to other connections (about 1 ms here),
# so a 6 MB request (~250k rows) cannot hold a single-row request for its whole time.
DEFAULT_SLICE_ROWS = 256


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes = b""
    content_type: bytes = b"text/plain"


PING_OK = Response(200)
Work = Generator[None, None, Response]
NOT_FOUND = Response(404, b"not found: use GET /ping or POST /invocations\n")
TOO_LARGE = Response(413, f"payload above the {MAX_PAYLOAD_BYTES} byte limit\n".encode())


def _is_csv(content_type: bytes | None) -> bool:
    # Missing means CSV, as in the SageMaker XGBoost container; parameters are ignored.
    return content_type is None or content_type.split(b";", 1)[0].strip().lower() == CSV


def finish(work: Work) -> Response:
    """Runs `work` to its response without pausing."""
    try:
        while True:
            next(work)
    except StopIteration as done:
        return done.value


class InferenceApp:
    def __init__(self, predictor: Predictor, slice_rows: int = DEFAULT_SLICE_ROWS):
        self.predictor = predictor
        self.num_features = predictor.num_features
        self.slice_rows = slice_rows

    def handle(self, method: bytes, path: bytes, content_type: bytes | None, body: bytes) -> Response:
        return finish(self.work(method, path, content_type, body))

    def work(self, method: bytes, path: bytes, content_type: bytes | None, body: bytes) -> Work:
        """The response, computed in slices: the generator pauses every `slice_rows` rows."""
        path = path.split(b"?", 1)[0]
        if path == b"/invocations":
            if method != b"POST":
                return Response(405, b"use POST for /invocations\n")
            return (yield from self._invoke(content_type, body))
        if path == b"/ping":
            return PING_OK if method in (b"GET", b"HEAD") else Response(405, b"use GET for /ping\n")
        return NOT_FOUND

    def _invoke(self, content_type: bytes | None, body: bytes) -> Work:
        if len(body) > MAX_PAYLOAD_BYTES:
            return TOO_LARGE
        if not _is_csv(content_type):
            shown = (content_type or b"").decode("latin-1")[:80]
            return Response(415, f"content type {shown!r} not supported; send text/csv\n".encode())
        parts: list[bytes] = []
        first_line = 1
        try:
            for lines in line_slices(body, self.slice_rows):
                if parts:
                    yield
                rows = parse_lines(lines, self.num_features, first_line)
                parts.append("\n".join(map(str, self.predictor.predict(rows))).encode())
                first_line += len(lines)
        except RowError as exc:
            return Response(400, f"bad request: {exc}\n".encode())
        return Response(200, b"\n".join(parts) + b"\n", CSV)
