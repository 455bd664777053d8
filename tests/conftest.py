"""Shared fixtures: dummy AWS credentials, moto with the emulator's fixes, model artifacts."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
# The real model from the public AWS guidance; only tests read the shared folder, which sits
# beside the checkout (or at $RTB_MLOPS_SHARED).
_SHARED = [Path(p) for p in (os.environ.get("RTB_MLOPS_SHARED", ""), REPO.parent / "shared", "/work/shared") if p]
GUIDANCE_MODEL = next(
    (d / "models/rtb-guidance/model.tar.gz" for d in _SHARED if (d / "models/rtb-guidance/model.tar.gz").exists()),
    _SHARED[0] / "models/rtb-guidance/model.tar.gz",
)
GUIDANCE_ROW = b"2,0,0.0,7.0,3.0,20.0,2"
GUIDANCE_SCORE = 0.00084757


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test ever reaches a real AWS account: dummy credentials, no metadata service."""
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    from model_registry.aws import forget_clients

    forget_clients()


@pytest.fixture
def moto_aws():
    from moto import mock_aws

    from emulator import moto_fixes

    moto_fixes.apply()
    with mock_aws():
        yield


@pytest.fixture(scope="session")
def example_model(tmp_path_factory: pytest.TempPathFactory):
    from model_registry.example_model import build_example_model

    return build_example_model(tmp_path_factory.mktemp("example"), rows=20_000)


@pytest.fixture(scope="session")
def guidance_model() -> Path:
    if not GUIDANCE_MODEL.exists():
        pytest.skip(f"{GUIDANCE_MODEL} not present")
    return GUIDANCE_MODEL


def load_fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())
