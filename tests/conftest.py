"""Shared fixtures: dummy AWS credentials, moto with the emulator's fixes, model artifacts.

Every test session is a new machine: the compile cache and the emulator's state start empty
(a warm `~/.cache` once hid a cold-start failure from CI), and no process may outlive it.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import psutil
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
_PR_SET_CHILD_SUBREAPER = 36
_COLD_DIRS = ("RTB_MLOPS_CACHE", "RTB_MLOPS_EMULATOR_HOME")


def pytest_configure(config: pytest.Config) -> None:
    for name in _COLD_DIRS:
        os.environ[name] = tempfile.mkdtemp(prefix=f"{name.lower()}-")
    # As a subreaper this process adopts orphans (a worker whose server died), so the check at
    # the end finds them rather than losing them to init.
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fails the run if any process started under it is still alive once every fixture is down."""
    me = psutil.Process()
    deadline = time.monotonic() + 15
    while (alive := _living(me)) and time.monotonic() < deadline:
        time.sleep(0.5)
    for proc, _ in alive:
        proc.kill()
    if alive:
        described = "\n".join(f"  {proc.pid} {cmdline[:200]}" for proc, cmdline in alive)
        print(f"\nerror: {len(alive)} process(es) outlived the test session:\n{described}", file=sys.stderr)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_unconfigure(config: pytest.Config) -> None:
    for name in _COLD_DIRS:
        shutil.rmtree(os.environ.pop(name, ""), ignore_errors=True)


def _living(me: psutil.Process) -> list[tuple[psutil.Process, str]]:
    out = []
    for child in me.children(recursive=True):
        try:
            if child.status() != psutil.STATUS_ZOMBIE:
                out.append((child, " ".join(child.cmdline())))
        except psutil.NoSuchProcess:
            continue
    return out


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
