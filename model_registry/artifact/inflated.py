"""A gzip stream as a file that refuses to inflate past a limit.

tarfile reads headers, pax records and member data through this file with sized reads,
and skips member data by seeking forward, so each read and seek is checked against the
limit before any of it is inflated: a bomb is refused at the first header that would
cross it, and nothing read from the archive is ever larger than the limit.
"""

from __future__ import annotations

import gzip
from pathlib import Path

from model_registry.artifact.errors import ArtifactError
from model_registry.artifact.limits import size_text


class InflatedFile:
    """The calls tarfile makes on an archive it reads: tell, seek to an offset, sized read."""

    def __init__(self, path: Path, gz: gzip.GzipFile, max_bytes: int):
        self.path = path
        self.max_bytes = max_bytes
        self._gz = gz
        self._pos = 0

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int) -> int:
        self._refuse_past(offset, "seeking")
        self._pos = self._gz.seek(offset)
        return self._pos

    def read(self, size: int) -> bytes:
        self._refuse_past(self._pos + size, "reading")
        data = self._gz.read(size)
        self._pos += len(data)
        return data

    def _refuse_past(self, end: int, doing: str) -> None:
        if end > self.max_bytes:
            raise ArtifactError(
                self.path,
                f"archive inflates past the limit of {size_text(self.max_bytes)}"
                f" ({doing} to byte {end} of the tar stream)",
            )
