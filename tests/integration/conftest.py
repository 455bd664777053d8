"""One emulator for the integration tests: real processes on 127.0.0.1, short load tests."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest

from tests.conftest import REPO

CONFIG = str(REPO / "config" / "pipeline.yaml")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def emulator(tmp_path_factory):
    from emulator import control

    home = tmp_path_factory.mktemp("emulator-home")
    saved = dict(os.environ)
    os.environ["RTB_MLOPS_EMULATOR_HOME"] = str(home)
    # Two seconds of load per environment: real measurements, kept short for the suite.
    os.environ["RTB_MLOPS_EMULATOR_LOADTEST_SECONDS"] = "2"
    # Quotas on, as an account whose SageMaker instance quotas were raised to hold every test
    # flow's endpoint at once (the defaults fit one flow, as `make run` shows; the quota
    # refusals themselves are tested in tests/unit/test_emulator_quotas.py).
    os.environ["RTB_EMULATOR_QUOTAS"] = json.dumps(
        {"Number of instances across active endpoints": 400}
        | {
            f"{t} for endpoint usage": 200
            for t in ("ml.c5.large", "ml.c5.xlarge", "ml.c6i.large", "ml.c6i.xlarge", "ml.m5.large")
        }
    )
    # The model deploy pipeline's projects run on DeployImage: this installation (as `make run
    # FLOW=codepipeline` declares it), so no CodeBuild action installs the project.
    from emulator.codebuild.images import IMAGES_SETTING
    from pipelines.local_codepipeline import deploy_image_setting

    os.environ[IMAGES_SETTING] = deploy_image_setting()
    running, _ = control.up(free_port(), home)
    os.environ.update(AWS_DEFAULT_REGION="us-east-1", **running.environment())
    yield running
    control.down(home)
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(autouse=True)
def aws_env(emulator):
    """Overrides the unit tests' fixture: here AWS is the emulator."""
    os.environ.update(emulator.environment())
    from model_registry.aws import forget_clients

    forget_clients()


@pytest.fixture(scope="session")
def second_model(tmp_path_factory) -> Path:
    from model_registry.example_model import build_example_model

    return Path(build_example_model(tmp_path_factory.mktemp("second"), rows=30_000).model_path)


@pytest.fixture(scope="session")
def auto_flow(emulator, example_model):
    """One full flow with auto approval, shared by the tests that only read (or restore) it."""
    import io

    from pipelines.local_run import endpoint_ready, prepare_account, run_pipeline
    from tests.integration.test_flow import config

    cfg = config("flow-auto", example_model=example_model)
    prepare_account(cfg)
    execution, results = run_pipeline(cfg, io.StringIO())
    assert execution.status == "Succeeded", execution.failure_reason
    return cfg, execution, results, endpoint_ready(cfg, io.StringIO())
