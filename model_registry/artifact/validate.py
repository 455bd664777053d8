"""The checks an artifact passes before it is registered, and the safe way to load one."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import xgboost as xgb

from model_registry.artifact.booster import ModelFacts, facts, load_booster
from model_registry.artifact.compat import Compatibility, check
from model_registry.artifact.errors import ArtifactError
from model_registry.artifact.limits import DEFAULT_MAX_BYTES, MAX_BYTES_ENV, listed, size_text
from model_registry.artifact.model_file import ModelFile, classify
from model_registry.artifact.payload import read_sample_payload
from model_registry.artifact.tarball import read_members

MODEL_FILE_NAME = "xgboost-model"
PROBABILITY_OBJECTIVES = ("binary:logistic", "reg:logistic")


@dataclass(frozen=True)
class ArtifactReport:
    artifact: str
    sha256: str
    format: str
    saved_by: str
    facts: ModelFacts
    compatibility: Compatibility
    payload: str | None
    payload_rows: int | None

    def to_dict(self) -> dict:
        return asdict(self)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_model_file(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> ModelFile:
    """The one model file of a SageMaker XGBoost artifact, classified, not yet loaded; nothing
    in it may make us allocate more than `max_bytes`."""
    members = read_members(path, max_bytes=max_bytes)
    if MODEL_FILE_NAME not in members:
        raise ArtifactError(
            path,
            f"expected a file named {MODEL_FILE_NAME!r} at the top level, found {listed(sorted(members)) or 'nothing'}",
        )
    extra = sorted(set(members) - {MODEL_FILE_NAME})
    if extra:
        raise ArtifactError(
            path,
            f"unexpected files {listed(extra)}: the SageMaker XGBoost container loads every file"
            " in the model directory as a model",
        )
    return classify(f"{path}:{MODEL_FILE_NAME}", members[MODEL_FILE_NAME], max_bytes)


def read_model_directory(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> ModelFile:
    """The model file of an artifact SageMaker has already extracted (`/opt/ml/model` in a
    container): only `xgboost-model` is read, a regular file of at most `max_bytes`."""
    model_path = path / MODEL_FILE_NAME
    if model_path.is_symlink() or not model_path.is_file():
        found = listed(sorted(p.name for p in path.iterdir())) if path.is_dir() else ""
        raise ArtifactError(path, f"expected a regular file named {MODEL_FILE_NAME!r}, found {found or 'nothing'}")
    size = model_path.stat().st_size
    if size > max_bytes:
        raise ArtifactError(model_path, f"{size_text(size)}, above the {size_text(max_bytes)} limit")
    try:
        data = model_path.read_bytes()
    except OSError as exc:  # e.g. a file only root may read, in an image that runs unprivileged
        raise ArtifactError(model_path, f"cannot read: {exc.strerror}") from None
    return classify(str(model_path), data, max_bytes)


def load_artifact(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[ModelFile, xgb.Booster]:
    """A model.tar.gz, or the directory SageMaker extracted one into."""
    try:
        model = read_model_directory(path, max_bytes) if path.is_dir() else read_model_file(path, max_bytes)
        return model, load_booster(model)
    except MemoryError:
        # Within the limit, checking and loading a model still takes a few times its size
        # (copies, and xgboost's own structures): a limit above the memory there is ends here.
        raise ArtifactError(
            path,
            f"ran out of memory checking and loading it; the size limit is {size_text(max_bytes)},"
            f" and a model near it needs a few times that: lower it (--max-bytes, ${MAX_BYTES_ENV})"
            " or allow more memory",
        ) from None


def validate_artifact(
    path: Path, container_version: str, payload_path: Path | None = None, max_bytes: int = DEFAULT_MAX_BYTES
) -> ArtifactReport:
    """Raise ArtifactError naming the file and the problem, or describe an artifact fit to register."""
    model, booster = load_artifact(path, max_bytes)
    model_facts = facts(booster)
    if model_facts.objective not in PROBABILITY_OBJECTIVES:
        raise ArtifactError(
            path,
            f"objective {model_facts.objective!r}; a bid filter must output probabilities {PROBABILITY_OBJECTIVES}",
        )
    compatibility = check(model, container_version)
    if not compatibility.loadable:
        raise ArtifactError(
            path, f"the SageMaker XGBoost {container_version} image cannot load it: {compatibility.reason}"
        )
    rows = None
    if payload_path is not None:
        rows = _check_payload(payload_path, booster, model_facts.num_features, max_bytes)
    return ArtifactReport(
        artifact=str(path),
        sha256=sha256_file(path),
        format=model.format.value,
        saved_by=model.saved_by_text,
        facts=model_facts,
        compatibility=compatibility,
        payload=str(payload_path) if payload_path else None,
        payload_rows=rows,
    )


def _check_payload(payload_path: Path, booster: xgb.Booster, num_features: int, max_bytes: int) -> int:
    payload = read_sample_payload(payload_path, max_bytes=max_bytes)
    width = payload.matrix_width
    if width != num_features:
        raise ArtifactError(payload_path, f"rows have {width} features, the model expects {num_features}")
    scores = booster.inplace_predict(payload.matrix(num_features))
    if not np.all(np.isfinite(scores)) or scores.min() < 0 or scores.max() > 1:
        raise ArtifactError(payload_path, "the model's scores for the sample rows are not probabilities in [0, 1]")
    return payload.num_rows
