"""Locust's distributed mode, as the README documents it: `rtb-mlops loadtest --locust-workers 1`
is a master that starts once a worker has connected, the worker runs the same locustfile with
the environment the master wrote into DIR/locust/, and the report counts the worker's requests
(the master runs no users of its own)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import boto3
import pytest

from pipelines.cli import main
from pipelines.loadtest import locustfile_path
from serving.child import dies_with_parent
from tests.integration.conftest import free_port
from tests.integration.test_monitoring import _in_service, _wait

pytestmark = pytest.mark.integration


def test_a_master_and_one_worker_on_this_machine_run_the_profile(auto_flow, tmp_path):
    _cfg, _, _, endpoint = auto_flow
    sm = boto3.client("sagemaker")
    name = "flow-distributed"
    variant = sm.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])["ProductionVariants"][0]
    sm.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[{**variant, "InitialInstanceCount": 1}])
    sm.create_endpoint(EndpointName=name, EndpointConfigName=name)
    _wait("flow-distributed in service", lambda: _in_service(sm, name), seconds=120)
    port, report_dir, outcome = free_port(), tmp_path / "report", {}
    args = ["loadtest", "--endpoint", name, "--profile", "step", "--base-rps", "5", "--peak-rps", "10",
            "--duration", "12", "--report", str(report_dir), "--locust-workers", "1",
            "--locust-master-port", str(port)]  # fmt: skip
    master = threading.Thread(target=lambda: outcome.update(code=main(args)), daemon=True)
    master.start()
    folder = report_dir / "locust"
    worker = None
    try:
        _wait("the master's worker files", lambda: (folder / "profile.json").exists(), seconds=60)
        env = {
            **os.environ,
            "RTB_LOADTEST_ENDPOINT": name,
            "RTB_LOADTEST_ROWS": str(folder / "rows.csv"),
            "RTB_LOADTEST_PROFILE": (folder / "profile.json").read_text(),
        }
        command = [sys.executable, "-m", "locust", "-f", str(locustfile_path()), "--worker",
                   "--master-host", "127.0.0.1", "--master-port", str(port)]  # fmt: skip
        with open(tmp_path / "worker.log", "w") as log:
            worker = subprocess.Popen(dies_with_parent(command), env=env, stdout=log, stderr=subprocess.STDOUT)
        master.join(timeout=120)
        assert worker.wait(timeout=30) == 0, (tmp_path / "worker.log").read_text()
    finally:
        if worker is not None and worker.poll() is None:
            worker.kill()
            worker.wait()
        sm.delete_endpoint(EndpointName=name)
    assert not master.is_alive() and outcome.get("code") in (0, 1), (folder / "locust.log").read_text()
    report = json.loads((report_dir / "report.json").read_text())
    planned = sum(p["rps"] * p["seconds"] for p in report["profile"]["phases"])
    # Every request came from the worker, reported to the master with its regular reports.
    assert 0.7 * planned <= report["requests"] <= 1.2 * planned, (report["requests"], planned)
    assert report["errors"] == 0
