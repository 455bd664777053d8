"""The pipeline's own artifact check honours the configured artifact size limit."""

from __future__ import annotations

import pytest

from model_registry.artifact.limits import MAX_BYTES_ENV
from model_registry.errors import UserError
from pipelines.config import load_config
from pipelines.inputs import resolve
from tests.conftest import REPO


def test_run_pipeline_refuses_an_artifact_above_the_configured_limit(example_model, monkeypatch):
    monkeypatch.setenv(MAX_BYTES_ENV, "1KiB")
    cfg = load_config(REPO / "config" / "pipeline.yaml")
    with pytest.raises(UserError, match="1,024|1024"):
        resolve(cfg, s3=None, artifact=example_model.model_path, payload=example_model.payload_path)
