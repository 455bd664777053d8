"""`rtb-mlops emulator up | down | status`: one emulator per state folder, in the background."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

from emulator.server import HOST

DEFAULT_PORT = 4599
PERSON_FILE = "person-credentials.json"  # written by the emulator into its work folder


def state_dir() -> Path:
    return Path(os.environ.get("RTB_MLOPS_EMULATOR_HOME", Path.home() / ".cache" / "rtb-mlops" / "emulator"))


@dataclass(frozen=True)
class Running:
    pid: int
    url: str
    work_dir: str
    log: str
    started: float
    # The CLI user the emulator made for the person (emulator.iam.principals.create_person).
    credentials: dict[str, str]

    def environment(self) -> dict[str, str]:
        """What a process calling the emulator as the person needs."""
        return {"AWS_ENDPOINT_URL": self.url, **self.credentials}

    def exports(self, region: str = "us-east-1") -> str:
        env = {**self.environment(), "AWS_DEFAULT_REGION": region}
        return "\n".join(f"export {k}={v}" for k, v in env.items())


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_emulator/health", timeout=2) as r:  # noqa: S310 - our own 127.0.0.1 URL
            return r.status == 200
    except OSError:
        return False


def denials(url: str) -> list[str]:
    """What the emulator's IAM refused since it started (the last ones), as AWS worded it."""
    with urllib.request.urlopen(f"{url}/_emulator/health", timeout=5) as r:  # noqa: S310 - our own 127.0.0.1 URL
        return json.loads(r.read()).get("iam_denied", [])


def _alive(pid: int) -> bool:
    try:
        # Reap it if it is our own child that has exited (a zombie still answers kill 0).
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def status(home: Path | None = None) -> Running | None:
    path = (home or state_dir()) / "emulator.json"
    try:
        running = Running(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None
    return running if _alive(running.pid) and _healthy(running.url) else None


def up(port: int = DEFAULT_PORT, home: Path | None = None, timeout: float = 60.0) -> tuple[Running, bool]:
    """(the emulator, whether this call started it); a second `up` reports the first."""
    home = home or state_dir()
    existing = status(home)
    if existing is not None:
        return existing, False
    url = f"http://{HOST}:{port}"
    if _healthy(url):
        raise RuntimeError(f"{url} already answers but is not the emulator recorded in {home}; pick another --port")
    home.mkdir(parents=True, exist_ok=True)
    work = home / "work"
    log = home / "emulator.log"
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "emulator", "--port", str(port), "--work-dir", str(work)],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    deadline = time.monotonic() + timeout
    while not _healthy(url):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            tail = log.read_text(errors="replace").splitlines()[-5:]
            raise RuntimeError(f"the emulator did not start on {url}: " + " | ".join(tail))
        time.sleep(0.2)
    credentials = json.loads((work / PERSON_FILE).read_text())
    running = Running(proc.pid, url, str(work), str(log), time.time(), credentials)
    state = home / "emulator.json"
    state.touch(mode=0o600)  # it holds the person's access key
    state.write_text(json.dumps(asdict(running)))
    return running, True


def down(home: Path | None = None, timeout: float = 30.0) -> bool:
    home = home or state_dir()
    path = home / "emulator.json"
    try:
        running = Running(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return False
    if _alive(running.pid):
        os.kill(running.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _alive(running.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if _alive(running.pid):
            os.killpg(running.pid, signal.SIGKILL)
    path.unlink(missing_ok=True)
    return True
