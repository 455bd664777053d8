"""Real model-server processes behind the emulator's endpoints and load tests: `serving/` for
the project's image, and a server built like the stock container's request path
(`emulator.stock_xgboost_server`) for SageMaker's own XGBoost images.

Each server says it is ready on its own pipe and holds a lifeline to the emulator
(`serving.child`): a cold compile printing to stdout cannot be mistaken for its answer, and
no server outlives the emulator, however the emulator ends.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import urllib.request
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from serving.child import Child, NotReady, spawn

_URL = re.compile(r" at (http://127\.0\.0\.1:\d+) ")
# A cold compile of a realistic model on 2 cores takes tens of seconds; leave room for a busy machine.
START_TIMEOUT = 300.0


class ModelServerError(RuntimeError):
    pass


ONE_THREAD = {"OMP_NUM_THREADS": "1"}

# What runs here for a container image.
SERVING = "serving"
STOCK_XGBOOST = "stock-xgboost"
_STOCK_REPOSITORY = re.compile(r"^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/sagemaker-xgboost[:@]")


def server_kind(image: str) -> str:
    """SageMaker's own XGBoost images (repository `sagemaker-xgboost` in AWS's registry accounts)
    get the stock request path; any other image is taken for serving/'s, the only other image
    this product registers."""
    return STOCK_XGBOOST if _STOCK_REPOSITORY.match(image) else SERVING


def _command(kind: str, artifact: Path, workers: int, timeout: float) -> list[str]:
    flags = ["--model-artifact", str(artifact), "--port", "0", "--workers", str(workers)]
    if kind == STOCK_XGBOOST:
        return [sys.executable, "-m", "emulator.stock_xgboost_server", *flags]
    return [sys.executable, "-m", "serving", *flags, "--startup-timeout", str(timeout)]


@dataclass
class ModelServer:
    """One `python -m serving` process: its URL, and the tail of its output for diagnostics."""

    artifact: Path
    environment: dict[str, str]
    workers: int = 1
    kind: str = SERVING
    child: Child | None = None
    url: str = ""
    output_tail: deque = field(default_factory=lambda: deque(maxlen=30))

    def start(self, timeout: float = START_TIMEOUT) -> str:
        # One worker stands for one vCPU: OpenMP gets one thread unless the environment under
        # test sets it (xgboost's DMatrix otherwise spreads each request over every core, and the
        # stock request path measured 10 ms a row instead of about 1).
        env = {**ONE_THREAD, **os.environ, **self.environment}
        cmd = _command(self.kind, self.artifact, self.workers, timeout)
        self.child = spawn(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        threading.Thread(target=self._drain_output, daemon=True).start()
        try:
            line = self.child.wait_ready(timeout, self._last_output)
        except NotReady as exc:
            raise ModelServerError(f"model server did not start: {exc}") from None
        match = _URL.search(line)
        if not match:
            self.stop()
            raise ModelServerError(f"model server said it was ready without a URL: {line!r}")
        self.url = match.group(1)
        with urllib.request.urlopen(f"{self.url}/ping", timeout=5) as r:  # noqa: S310 - our 127.0.0.1 server
            if r.status != 200:
                raise ModelServerError(f"model server at {self.url} answered /ping with {r.status}")
        return self.url

    def _drain_output(self) -> None:
        assert self.child is not None
        for line in self.child.proc.stdout:
            self.output_tail.append(line.rstrip())

    def _last_output(self) -> str:
        return " | ".join(list(self.output_tail)[-5:])

    def alive(self) -> bool:
        return self.child is not None and self.child.proc.poll() is None

    def reason(self) -> str:
        code = self.child.proc.poll() if self.child else None
        tail = self._last_output()
        return f"exit status {code}: {tail}" if code is not None else tail or "no output"

    def stop(self) -> None:
        if self.child is not None:
            self.child.stop(15)


# Instances of one endpoint that run as processes here; the rest of a larger count is
# recorded (DescribeEndpoint shows it) but not started. Two cores hold three servers at most.
MAX_LOCAL_INSTANCES_SETTING = "RTB_MLOPS_EMULATOR_MAX_LOCAL_INSTANCES"
DEFAULT_MAX_LOCAL_INSTANCES = 3


def max_local_instances() -> int:
    raw = os.environ.get(MAX_LOCAL_INSTANCES_SETTING, str(DEFAULT_MAX_LOCAL_INSTANCES))
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{MAX_LOCAL_INSTANCES_SETTING}={raw!r}: expected a whole number >= 1")
    return int(raw)


@dataclass
class ServerPool:
    """The model-server processes of one endpoint variant, used in turn."""

    artifact: Path
    environment: dict[str, str]
    kind: str = SERVING
    servers: list[ModelServer] = field(default_factory=list)
    _turn: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def next(self) -> ModelServer:
        with self._lock:
            self._turn = (self._turn + 1) % len(self.servers)
            return self.servers[self._turn]

    def resize(self, instances: int) -> int:
        """Runs min(instances, the local cap) servers, started side by side; the number running."""
        want = min(instances, max_local_instances())
        with self._lock:
            surplus = self.servers[want:]
            self.servers = self.servers[:want]
        for server in surplus:
            server.stop()
        new = [ModelServer(self.artifact, self.environment, kind=self.kind) for _ in range(want - len(self.servers))]
        errors: list[Exception] = []

        def start(server: ModelServer) -> None:
            try:
                server.start()
            except Exception as exc:  # reported below, after every start has ended
                errors.append(exc)

        threads = [threading.Thread(target=start, args=(s,), daemon=True) for s in new]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            for server in new:
                server.stop()
            raise errors[0]
        with self._lock:
            self.servers.extend(new)
        return len(self.servers)

    def alive(self) -> bool:
        return all(s.alive() for s in list(self.servers))

    def reason(self) -> str:
        return "; ".join(s.reason() for s in list(self.servers) if not s.alive()) or "no output"

    def stop(self) -> None:
        with self._lock:
            servers, self.servers = self.servers, []
        for server in servers:
            server.stop()
