"""Reading and writing the `.tar.gz` archives SageMaker uses for models and sample payloads.

Archives come from outside: members are read into memory (never extracted to disk by
name), only regular files with unique names are accepted, and what the archive inflates to
is bounded (see `inflated`).
"""

from __future__ import annotations

import gzip
import io
import tarfile
import zlib
from pathlib import Path, PurePosixPath

from model_registry.artifact.errors import ArtifactError
from model_registry.artifact.inflated import InflatedFile
from model_registry.artifact.limits import DEFAULT_MAX_BYTES, quote, size_text

MAX_MEMBERS = 10_000
# Members are copied out in pieces: one read of a whole member would hold it twice.
_CHUNK = 1024 * 1024


def read_members(path: Path, max_members: int = MAX_MEMBERS, max_bytes: int = DEFAULT_MAX_BYTES) -> dict[str, bytes]:
    """Regular files of a tar.gz, keyed by normalised relative path; the archive may inflate
    to at most `max_bytes`, headers included."""
    try:
        with open(path, "rb") as raw, gzip.GzipFile(fileobj=raw, mode="rb") as gz:
            with tarfile.open(fileobj=InflatedFile(path, gz, max_bytes), mode="r:") as tar:
                return _members(path, tar, max_members, max_bytes)
    except FileNotFoundError:
        raise ArtifactError(path, "file not found") from None
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise ArtifactError(path, f"corrupt or not a gzip-compressed tar archive ({exc})") from None


def _members(path: Path, tar: tarfile.TarFile, max_members: int, limit: int) -> dict[str, bytes]:
    members: dict[str, bytes] = {}
    seen: set[str] = set()
    for info in tar:
        name = _safe_name(path, info)
        if name in seen:
            # `tar` keeps the first or the last copy depending on its flags: either could be checked.
            raise ArtifactError(path, f"member {quote(name)} appears more than once; names must be unique")
        seen.add(name)
        if len(seen) > max_members:
            raise ArtifactError(path, f"more than {max_members} members")
        if info.isdir():
            continue
        if not info.isfile():
            raise ArtifactError(path, f"member {quote(info.name)} is a link or device; only regular files are allowed")
        if info.offset_data + info.size > limit:
            raise ArtifactError(
                path,
                f"member {quote(info.name)} is {size_text(info.size)} from byte {info.offset_data}:"
                f" the archive would inflate past the limit of {size_text(limit)}",
            )
        members[name] = _read(tar, info)
    return members


def _read(tar: tarfile.TarFile, info: tarfile.TarInfo) -> bytes:
    out = io.BytesIO()
    with tar.extractfile(info) as src:
        while chunk := src.read(_CHUNK):
            out.write(chunk)
    return out.getvalue()


def _safe_name(path: Path, info: tarfile.TarInfo) -> str:
    name = PurePosixPath(info.name)
    if name.is_absolute() or ".." in name.parts:
        raise ArtifactError(path, f"member {quote(info.name)} escapes the archive (absolute path or '..')")
    return str(PurePosixPath(*[p for p in name.parts if p != "."])) if name.parts else ""


def write_tar_gz(path: Path, files: dict[str, bytes]) -> None:
    """A byte-for-byte reproducible archive: fixed order, times and owners."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(files):
            info = tarfile.TarInfo(name)
            info.size = len(files[name])
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(files[name]))
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as out, gzip.GzipFile(filename="", fileobj=out, mode="wb", mtime=0) as gz:
        gz.write(raw.getvalue())
