"""What every part of the emulator shares: the account, region, URL, folders, and S3 access."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from moto.s3.models import s3_backends

ACCOUNT = "123456789012"  # moto's default account
# Placeholders for the emulator's own process, which makes no request with them: every actor
# calls with credentials of its own (emulator.iam.principals), and unknown keys are refused.
DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "emulator", "AWS_SECRET_ACCESS_KEY": "emulator"}


@dataclass
class Context:
    url: str
    region: str
    work_dir: Path
    account: str = ACCOUNT

    def aws_environment(self, credentials: dict[str, str]) -> dict[str, str]:
        """What a process the emulator runs (a step script, a Lambda) needs to call it as AWS,
        with the credentials of the role it runs as."""
        return {
            "AWS_ENDPOINT_URL": self.url,
            **credentials,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
        }

    def folder(self, *parts: str) -> Path:
        path = self.work_dir.joinpath(*parts)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def read_s3(self, uri: str) -> bytes:
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        try:
            obj = s3_backends[self.account]["aws"].get_object(bucket, key)
        except Exception as exc:  # moto raises its own MissingKey / MissingBucket
            raise FileNotFoundError(f"{uri}: {type(exc).__name__}") from None
        if obj is None:
            raise FileNotFoundError(f"{uri}: no such key")
        return obj.value

    def fetch_s3(self, uri: str) -> Path:
        """A local copy of an S3 object, cached by content."""
        data = self.read_s3(uri)
        path = self.folder("s3-cache") / f"{hashlib.sha256(data).hexdigest()[:16]}-{Path(uri).name}"
        if not path.exists():
            path.write_bytes(data)
        return path

    def write_s3(self, uri: str, data: bytes) -> None:
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        s3_backends[self.account]["aws"].put_object(bucket, key, data)

    def list_s3(self, prefix_uri: str) -> list[str]:
        bucket, _, prefix = prefix_uri.removeprefix("s3://").partition("/")
        keys = s3_backends[self.account]["aws"].get_bucket(bucket).keys.keys()
        return [f"s3://{bucket}/{k}" for k in keys if k.startswith(prefix)]
