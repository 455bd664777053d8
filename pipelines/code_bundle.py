"""The project's own code as it ships to AWS: step scripts for processing jobs, and the
deploy Lambda's package. Both run on stock runtimes, so they hold only the modules that
need nothing beyond boto3 and the standard library; a test holds them to that.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
# Modules these runtimes never need: artifact reading (xgboost), the example model, the audit.
_NOT_SHIPPED = ("model_registry/artifact/", "model_registry/example_model.py", "model_registry/audit/")

STEPS_PACKAGES = ("steps", "model_registry")
LAMBDA_PACKAGES = ("deploy_lambda", "model_registry")


@dataclass(frozen=True)
class CodeBundle:
    files: dict[str, bytes]

    @property
    def digest(self) -> str:
        h = hashlib.sha256()
        for name in sorted(self.files):
            h.update(name.encode() + b"\0" + hashlib.sha256(self.files[name]).digest())
        return h.hexdigest()

    def s3_prefix(self, s3_root: str, kind: str) -> str:
        """Content-addressed, so a definition names exactly the code it runs."""
        return f"{s3_root}/code/{kind}/{self.digest[:16]}"

    def zip_bytes(self) -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            for name in sorted(self.files):
                info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                info.external_attr = 0o644 << 16
                zf.writestr(info, self.files[name], zipfile.ZIP_DEFLATED)
        return out.getvalue()


def collect(packages: tuple[str, ...], root: Path = REPO_ROOT) -> CodeBundle:
    files: dict[str, bytes] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*")):
            rel = path.relative_to(root).as_posix()
            if (
                path.is_file()
                and path.suffix == ".py"
                and "__pycache__" not in rel
                and not rel.startswith(_NOT_SHIPPED)
            ):
                files[rel] = path.read_bytes()
    return CodeBundle(files)


def upload(s3, bundle: CodeBundle, s3_prefix: str) -> None:
    """Put the bundle's files under its content-addressed prefix (a no-op when already there)."""
    bucket, _, key_prefix = s3_prefix[len("s3://") :].partition("/")
    marker = f"{key_prefix}/.complete"
    try:
        s3.head_object(Bucket=bucket, Key=marker)
        return
    except s3.exceptions.ClientError:
        pass
    for name, data in sorted(bundle.files.items()):
        s3.put_object(Bucket=bucket, Key=f"{key_prefix}/{name}", Body=data)
    # Written last: a prefix with the marker holds every file.
    s3.put_object(Bucket=bucket, Key=marker, Body=bundle.digest.encode())
