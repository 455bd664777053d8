"""Reading and writing the `.tar.gz` archives SageMaker uses for models and sample payloads.

Archives come from outside: members are read into memory (never extracted to disk by
name), only regular files are accepted, and sizes are bounded.
"""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path, PurePosixPath

from model_registry.artifact.errors import ArtifactError

MAX_MEMBER_BYTES = 2 * 1024**3
MAX_MEMBERS = 10_000


def read_members(path: Path, max_members: int = MAX_MEMBERS) -> dict[str, bytes]:
    """Regular files of a tar.gz, keyed by normalised relative path."""
    try:
        tar = tarfile.open(path, mode="r:gz")
    except FileNotFoundError:
        raise ArtifactError(path, "file not found") from None
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise ArtifactError(path, f"not a gzip-compressed tar archive ({exc})") from None
    members: dict[str, bytes] = {}
    with tar:
        try:
            for info in tar:
                name = _safe_name(path, info)
                if info.isdir():
                    continue
                if not info.isfile():
                    raise ArtifactError(
                        path, f"member {info.name!r} is a link or device; only regular files are allowed"
                    )
                if info.size > MAX_MEMBER_BYTES:
                    raise ArtifactError(path, f"member {info.name!r} is {info.size} bytes, above {MAX_MEMBER_BYTES}")
                if len(members) >= max_members:
                    raise ArtifactError(path, f"more than {max_members} files")
                members[name] = tar.extractfile(info).read()
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise ArtifactError(path, f"corrupt archive ({exc})") from None
    return members


def _safe_name(path: Path, info: tarfile.TarInfo) -> str:
    name = PurePosixPath(info.name)
    if name.is_absolute() or ".." in name.parts:
        raise ArtifactError(path, f"member {info.name!r} escapes the archive (absolute path or '..')")
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
