"""The model artifact and sample payload an execution registers: checked, then put in S3,
with the golden outputs the artifact gives for the payload (`model_registry.golden`).

Local files are validated and uploaded under content-addressed keys, so an S3 object is
never overwritten and the URI recorded in the registry keeps naming the same bytes. S3
inputs are downloaded and validated the same way before anything is registered.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from botocore.client import BaseClient

from model_registry import golden
from model_registry.artifact.golden import golden_record
from model_registry.artifact.limits import max_bytes_from_env
from model_registry.artifact.payload import payload_from_csv
from model_registry.artifact.validate import ArtifactReport, sha256_file, validate_artifact
from pipelines.config import PipelineConfig


@dataclass(frozen=True)
class ResolvedInputs:
    artifact_uri: str
    payload_uri: str
    report: ArtifactReport
    # The expected outputs for the payload's rows (model_registry.golden), and their sha256.
    golden_uri: str
    golden_sha256: str

    @property
    def sha256(self) -> str:
        return self.report.sha256


def _split(uri: str) -> tuple[str, str]:
    bucket, _, key = uri[len("s3://") :].partition("/")
    return bucket, key


def _fetch(s3: BaseClient, location: str, workdir: Path) -> Path:
    if not location.startswith("s3://"):
        return Path(location)
    bucket, key = _split(location)
    local = workdir / Path(key).name
    s3.download_file(bucket, key, str(local))
    return local


def _upload(s3: BaseClient, cfg: PipelineConfig, local: Path) -> str:
    digest = sha256_file(local)
    key = f"{cfg.aws.prefix}/inputs/{digest[:16]}/{local.name}"
    s3.upload_file(str(local), cfg.aws.bucket, key)
    return f"s3://{cfg.aws.bucket}/{key}"


def resolve(cfg: PipelineConfig, s3: BaseClient, artifact: str, payload: str) -> ResolvedInputs:
    with tempfile.TemporaryDirectory(prefix="rtb-mlops-inputs-") as tmp:
        workdir = Path(tmp)
        model_path = _fetch(s3, artifact, workdir)
        fetched = _fetch(s3, payload, workdir)
        # A CSV of rows becomes the archive of one-row requests Inference Recommender wants.
        converted = fetched.suffix == ".csv"
        payload_path = workdir / "payload.tar.gz" if converted else fetched
        if converted:
            payload_from_csv(fetched, payload_path)
        version = cfg.model.xgboost_container_version
        report = validate_artifact(model_path, version, payload_path, max_bytes_from_env())
        artifact_uri = artifact if artifact.startswith("s3://") else _upload(s3, cfg, model_path)
        payload_uri = payload if payload.startswith("s3://") and not converted else _upload(s3, cfg, payload_path)
        golden_bytes = golden_record(model_path, payload_path).to_bytes()
        golden_path = workdir / golden.FILE_NAME
        golden_path.write_bytes(golden_bytes)
        golden_uri = _upload(s3, cfg, golden_path)
    return ResolvedInputs(artifact_uri, payload_uri, report, golden_uri, golden.sha256_of(golden_bytes))
