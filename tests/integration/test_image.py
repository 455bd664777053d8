"""The inference image itself: built from serving/container/Dockerfile with buildah (no Docker
daemon here) and run as SageMaker runs it: its ENTRYPOINT with `serve`, as its user, the extracted
model mounted read-only at /opt/ml/model, /ping then /invocations, SIGTERM to the server.

What differs from SageMaker here, and why:
- no registry with base images is reachable, so the base is a Debian trixie root made by
  mmdebstrap with python3 and python3-venv (what the Dockerfile's pinned python:3.13-slim-trixie
  provides), passed as BASE;
- the container runs with buildah's chroot isolation, which shares this machine's network: podman
  cannot start containers here (crun's setrlimit is refused: the sandbox withholds
  CAP_SYS_RESOURCE). So the server binds 127.0.0.1 on a free port (RTB_MLOPS_BIND_HOST,
  SAGEMAKER_BIND_TO_PORT) instead of the image's 0.0.0.0:8080, which nothing here may bind.
The build takes a minute or two and GBs of vfs storage, so it runs only when asked:
RTB_MLOPS_IMAGE_TEST=1, with buildah and mmdebstrap installed (`apt-get install buildah mmdebstrap`).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tarfile
import time
from pathlib import Path

import psutil
import pytest

from tests.conftest import GUIDANCE_ROW, GUIDANCE_SCORE, REPO
from tests.integration.conftest import free_port
from tests.integration.test_container_entrypoint import call, wait_healthy

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        os.environ.get("RTB_MLOPS_IMAGE_TEST") != "1",
        reason="builds the serving image (a minute or two, GBs of vfs storage): set RTB_MLOPS_IMAGE_TEST=1 to run it",
    ),
    pytest.mark.skipif(
        not all(shutil.which(tool) for tool in ("buildah", "mmdebstrap")),
        reason="needs buildah and mmdebstrap (apt-get install buildah mmdebstrap)",
    ),
    pytest.mark.timeout(1800),
]
IMAGE = "localhost/rtb-mlops-serving:test"
BASE = "localhost/rtb-mlops-test-base:trixie"
# This machine reaches PyPI through an egress proxy with its own CA: the build's pip trusts the
# host's bundle. A build on CodeBuild needs none of this.
HOST_CA = Path("/etc/ssl/certs/ca-certificates.crt")


def run(cmd: list[str], timeout: float) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    assert done.returncode == 0, f"{' '.join(cmd[:6])}...: {done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def buildah(tmp_path_factory) -> list[str]:
    """`buildah` on a storage of its own, with the image built into it."""
    root = tmp_path_factory.mktemp("image")
    tool = ["buildah", "--storage-driver", "vfs", "--root", str(root / "storage"), "--runroot", str(root / "run")]
    rootfs = root / "rootfs.tar"
    # Only the main archive: the updates and security suites' release files are expired against
    # this machine's clock (DESIGN.md, known sharp edges).
    run(["mmdebstrap", "--variant=minbase", "--include=python3,python3-venv,ca-certificates",
         "--aptopt=Acquire::Check-Valid-Until \"false\"", "stable", str(rootfs), "http://deb.debian.org/debian"],
        timeout=600)  # fmt: skip
    base = run([*tool, "from", "scratch"], timeout=60).stdout.strip()
    run([*tool, "add", base, str(rootfs), "/"], timeout=600)
    run([*tool, "commit", "--rm", base, BASE], timeout=600)
    pip_conf = root / "pip.conf"
    pip_conf.write_text(f"[global]\ncert = {HOST_CA}\n")
    started = time.monotonic()
    run([*tool, "bud", "--isolation", "chroot", "--build-arg", f"BASE={BASE}",
         "-v", f"{HOST_CA}:{HOST_CA}:ro", "-v", f"{pip_conf}:/etc/pip.conf:ro",
         "-f", str(REPO / "serving/container/Dockerfile"), "-t", IMAGE, str(REPO)], timeout=1500)  # fmt: skip
    print(f"image built in {time.monotonic() - started:.0f} s")
    yield tool
    subprocess.run([*tool, "rm", "--all"], capture_output=True, check=False, timeout=120)
    subprocess.run([*tool, "rmi", "--all", "--force"], capture_output=True, check=False, timeout=300)
    shutil.rmtree(root, ignore_errors=True)


def image_config(buildah: list[str]) -> dict:
    return json.loads(run([*buildah, "inspect", "--type", "image", IMAGE], timeout=60).stdout)["OCIv1"]["config"]


def test_the_image_config_is_sagemakers_contract(buildah):
    config = image_config(buildah)
    assert config["Entrypoint"] == ["/opt/venv/bin/python", "-m", "serving.container"]
    assert config["Cmd"] == ["serve"] and config["User"] == "10001:10001" and "8080/tcp" in config["ExposedPorts"]
    assert "RTB_MLOPS_CACHE=/tmp/rtb-mlops" in config["Env"]


def test_the_image_serves_as_sagemaker_runs_it(buildah, guidance_model, tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    with tarfile.open(guidance_model) as tar:
        tar.extractall(model, filter="data")  # SageMaker extracts ModelDataUrl into /opt/ml/model
    model.chmod(0o755)
    port = free_port()
    container = run([*buildah, "from", IMAGE], timeout=300).stdout.strip()
    settings = [f"SAGEMAKER_BIND_TO_PORT={port}", "RTB_MLOPS_BIND_HOST=127.0.0.1", "SAGEMAKER_MODEL_SERVER_WORKERS=2"]
    # `docker run IMAGE serve`: the ENTRYPOINT with `serve` in place of CMD, as the image's USER.
    cmd = [*buildah, "run", "--isolation", "chroot", "-v", f"{model}:/opt/ml/model:ro"]
    cmd += [arg for setting in settings for arg in ("--env", setting)]
    cmd += [container, "--", *image_config(buildah)["Entrypoint"], "serve"]
    log = tmp_path / "container.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    try:
        print(f"healthy {wait_healthy(proc, port):.1f} s after the start (cold compile)")
        status, body = call(port, "POST", "/invocations", GUIDANCE_ROW)
        assert status == 200 and float(body) == pytest.approx(GUIDANCE_SCORE, abs=1e-7)
        family = psutil.Process(proc.pid).children(recursive=True)
        server = next(p for p in family if p.cmdline()[1:] == ["-m", "serving.container", "serve"])
        assert server.uids().real == 10001
        server.send_signal(signal.SIGTERM)  # what `docker stop` sends the container's first process
        assert proc.wait(30) == 0, log.read_text()[-3000:]
    finally:
        if proc.poll() is None:
            for p in psutil.Process(proc.pid).children(recursive=True):
                p.kill()
            proc.kill()
            proc.wait()
        subprocess.run([*buildah, "rm", container], capture_output=True, check=False, timeout=120)
    assert not [p for p in family if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert f"at http://127.0.0.1:{port} (2 workers, predictor compiled)" in log.read_text()


def test_the_parity_check_runs_in_the_image(buildah, guidance_model, tmp_path):
    """The pipeline runs serving.parity in this image: its compiler, its libraries, its user."""
    data = tmp_path / "data"
    (data / "model").mkdir(parents=True)
    with tarfile.open(guidance_model) as tar:
        tar.extractall(data / "model", filter="data")
    (data / "rows.csv").write_bytes(GUIDANCE_ROW + b"\n6,20,4,90,0,1,4\n")
    data.chmod(0o755)
    container = run([*buildah, "from", IMAGE], timeout=300).stdout.strip()
    try:
        script = ("python -m serving.parity --model-artifact /data/model --payload /data/rows.csv"
                  " --out /tmp/parity.json > /dev/null && cat /tmp/parity.json")  # fmt: skip
        done = run([*buildah, "run", "--isolation", "chroot", "-v", f"{data}:/data:ro", container, "--",
                    "/bin/sh", "-c", script], timeout=300)  # fmt: skip
    finally:
        subprocess.run([*buildah, "rm", container], capture_output=True, check=False, timeout=120)
    report = json.loads(done.stdout)
    assert report["passed"] is True and report["rows_checked"] > 1000, report["reason"]
