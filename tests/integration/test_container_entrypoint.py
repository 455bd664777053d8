"""The image's entrypoint, run as SageMaker runs the container but outside one: `serve`, the
model extracted under an `opt/ml/model` of a temporary root, the port from SAGEMAKER_BIND_TO_PORT,
a cold compile cache. Readiness is /ping answering 200, as SageMaker polls it; SIGTERM (what
SageMaker sends before SIGKILL 30 s later) stops it cleanly with no process left behind.
(The image itself is built and run in tests/integration/test_image.py where buildah exists.)"""

import http.client
import os
import signal
import subprocess
import sys
import tarfile
import time

import psutil
import pytest

from tests.conftest import GUIDANCE_ROW, GUIDANCE_SCORE, REPO
from tests.integration.conftest import free_port

pytestmark = pytest.mark.integration
SAGEMAKER_PING_DEADLINE = 240  # seconds SageMaker waits for a new container's first healthy /ping


def call(port: int, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)  # SageMaker's /ping timeout
    try:
        conn.request(method, path, body=body, headers={"Content-Type": "text/csv"})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def wait_healthy(proc: subprocess.Popen, port: int) -> float:
    began = time.monotonic()
    while time.monotonic() - began < SAGEMAKER_PING_DEADLINE:
        assert proc.poll() is None, f"the entrypoint exited with {proc.returncode} before /ping answered"
        try:
            if call(port, "GET", "/ping")[0] == 200:
                return time.monotonic() - began
        except OSError:
            pass
        time.sleep(0.25)
    raise AssertionError(f"/ping did not answer 200 within {SAGEMAKER_PING_DEADLINE} s")


@pytest.fixture
def container_root(tmp_path, guidance_model):
    model_dir = tmp_path / "opt" / "ml" / "model"
    model_dir.mkdir(parents=True)
    with tarfile.open(guidance_model) as tar:
        tar.extractall(model_dir, filter="data")  # what SageMaker does with ModelDataUrl
    return tmp_path


def test_serve_as_sagemaker_does_then_stop_cleanly(container_root):
    port = free_port()
    cache = container_root / "tmp" / "rtb-mlops"
    env = {
        **os.environ,
        "SAGEMAKER_BIND_TO_PORT": str(port),
        "SAGEMAKER_MODEL_SERVER_WORKERS": "2",
        "RTB_MLOPS_MODEL_DIR": str(container_root / "opt" / "ml" / "model"),
        "RTB_MLOPS_BIND_HOST": "127.0.0.1",  # the container binds 0.0.0.0; nothing here leaves loopback
        "RTB_MLOPS_CACHE": str(cache),
    }
    log = container_root / "stdout.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "serving.container", "serve"], cwd=REPO, env=env, stdout=out)
    try:
        wait_healthy(proc, port)
        status, body = call(port, "POST", "/invocations", GUIDANCE_ROW + b"\n" + GUIDANCE_ROW)
        assert status == 200 and [float(v) for v in body.split()] == pytest.approx([GUIDANCE_SCORE] * 2, abs=1e-7)
        assert call(port, "POST", "/invocations", b"1,2\n")[0] == 400
        family = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
        assert len(family) == 3, [p.cmdline() for p in family]  # the server and its two workers
        listening = {c.laddr for p in family for c in p.net_connections("tcp") if c.status == psutil.CONN_LISTEN}
        assert listening == {("127.0.0.1", port)}
        assert list(cache.glob("compiled/model-*.so")), "the model was not compiled into the cache"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0  # SageMaker sends SIGKILL 30 s after SIGTERM
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert not [p for p in family if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert f"at http://127.0.0.1:{port} (2 workers, predictor compiled)" in log.read_text()


def test_a_missing_model_stops_the_container_with_the_reason(tmp_path):
    env = {
        **os.environ,
        "SAGEMAKER_BIND_TO_PORT": str(free_port()),
        "RTB_MLOPS_MODEL_DIR": str(tmp_path / "opt" / "ml" / "model"),
        "RTB_MLOPS_BIND_HOST": "127.0.0.1",
    }
    (tmp_path / "opt" / "ml" / "model").mkdir(parents=True)
    done = subprocess.run(
        [sys.executable, "-m", "serving.container", "serve"], cwd=REPO, env=env, capture_output=True, timeout=120
    )
    assert done.returncode == 1
    assert b"expected a regular file named 'xgboost-model', found nothing" in done.stderr
