"""What kind of XGBoost model file a blob is, and which xgboost wrote it, read from its bytes."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import StrEnum

from model_registry.artifact.errors import ArtifactError
from model_registry.artifact.json_model import Version, check_json
from model_registry.artifact.limits import DEFAULT_MAX_BYTES
from model_registry.artifact.safe_pickle import read_booster_state
from model_registry.artifact.ubjson_model import check_ubjson

# xgboost's memory snapshot (what pickling a Booster stores) starts with this header,
# then a little-endian int64 offset, from the end of the header, to the JSON config.
SNAPSHOT_HEADER = b"CONFIG-offset:"
_UBJ_KEY_MARKERS = b"iUIlL$#"


class ModelFormat(StrEnum):
    JSON = "json"
    UBJSON = "ubjson"
    PICKLE = "pickle"
    BINARY = "legacy-binary"


@dataclass(frozen=True)
class ModelFile:
    """One model file from an artifact, classified but not yet loaded."""

    name: str
    data: bytes
    format: ModelFormat
    saved_by: Version | None
    # What xgboost's loaders take: the file, or for a pickle the Booster's snapshot (read
    # once, within the size limit, when the file is classified).
    loadable: bytes

    @property
    def saved_by_text(self) -> str:
        return ".".join(map(str, self.saved_by)) if self.saved_by else "unknown"

    def model_bytes(self) -> bytearray:
        """A copy of `loadable` for xgboost, which takes a mutable buffer."""
        return bytearray(self.loadable)


def classify(name: str, data: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> ModelFile:
    fmt = _detect(name, data)
    loadable = bytes(read_booster_state(name, data, max_bytes)["handle"]) if fmt is ModelFormat.PICKLE else data
    saved_by = _saved_by(name, fmt, loadable, max_bytes)
    return ModelFile(name=name, data=data, format=fmt, saved_by=saved_by, loadable=loadable)


def _detect(name: str, data: bytes) -> ModelFormat:
    head = data[:64].lstrip()
    if data[:1] == b"\x80" and data[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return ModelFormat.PICKLE
    if head.startswith(b"{"):
        second = head[1:].lstrip()[:1]
        if second in (b'"', b"}"):
            return ModelFormat.JSON
        if second and second in _UBJ_KEY_MARKERS:
            return ModelFormat.UBJSON
    if data.startswith(b"binf") or data.startswith(SNAPSHOT_HEADER):
        return ModelFormat.BINARY
    raise ArtifactError(name, "not an XGBoost model: expected JSON, UBJSON, a pickled Booster or legacy binary")


def _saved_by(name: str, fmt: ModelFormat, data: bytes, max_bytes: int) -> Version | None:
    """Which xgboost wrote the model, read while checking it is fit for xgboost to parse."""
    if fmt is ModelFormat.JSON:
        return check_json(name, data, max_bytes)
    if fmt in (ModelFormat.PICKLE, ModelFormat.BINARY):
        return snapshot_version(name, data, max_bytes)
    return check_ubjson(name, data, max_bytes)


def snapshot_version(name: str, raw: bytes, max_bytes: int) -> Version | None:
    """The version in a Booster snapshot: UBJSON from xgboost 2.0 on, JSON config before."""
    if raw.startswith(b"{"):
        return check_ubjson(name, raw, max_bytes, version_path=(b"Model", b"version"))
    if not raw.startswith(SNAPSHOT_HEADER) or len(raw) < len(SNAPSHOT_HEADER) + 8:
        return None
    (offset,) = struct.unpack_from("<q", raw, len(SNAPSHOT_HEADER))
    start = len(SNAPSHOT_HEADER) + 8 + offset
    if offset < 0 or start > len(raw):
        return None
    return check_json(f"{name} (its config)", raw[start:], max_bytes)
