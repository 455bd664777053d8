"""`rtb-mlops emulator up | down | status`: one emulator per state folder, in the background.

The emulator keeps AWS's state (registry, endpoints, S3 objects, ...) in memory: `down`, or
the emulator's death, loses it, and `down` says so. Its endpoints' model servers hold a
lifeline to it (`serving.child`), so they end with it however it ends.
"""

from __future__ import annotations

import enum
import errno
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

from emulator.server import HOST
from model_registry.errors import UserError

DEFAULT_PORT = 4599
PERSON_FILE = "person-credentials.json"  # written by the emulator into its work folder


class EmulatorError(UserError):
    """The emulator cannot start where asked; the message says what holds the place."""


class Stopped(enum.Enum):
    STOPPED = "stopped"
    WAS_DEAD = "was not running"  # recorded, but the process had died (kill -9, a crash)
    NONE = "none recorded"


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
        raise EmulatorError(
            f"an emulator already answers on {url}, but not the one recorded in {home}: it belongs to another"
            " state folder (RTB_MLOPS_EMULATOR_HOME); stop it there, or pick another --port"
        )
    _check_port_free(port)
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
            raise EmulatorError(f"the emulator did not start on {url}: " + " | ".join(tail))
        time.sleep(0.2)
    credentials = json.loads((work / PERSON_FILE).read_text())
    running = Running(proc.pid, url, str(work), str(log), time.time(), credentials)
    state = home / "emulator.json"
    state.touch(mode=0o600)  # it holds the person's access key
    state.write_text(json.dumps(asdict(running)))
    return running, True


def _check_port_free(port: int) -> None:
    with socket.socket() as probe:
        try:
            probe.bind((HOST, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise EmulatorError(f"port {port} on {HOST} is taken by another program; pick another --port") from None
            raise


def down(home: Path | None = None, timeout: float = 30.0) -> Stopped:
    home = home or state_dir()
    path = home / "emulator.json"
    try:
        running = Running(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return Stopped.NONE
    if not _alive(running.pid):
        path.unlink(missing_ok=True)
        return Stopped.WAS_DEAD
    os.kill(running.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _alive(running.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if _alive(running.pid):
        os.killpg(running.pid, signal.SIGKILL)
    path.unlink(missing_ok=True)
    return Stopped.STOPPED
