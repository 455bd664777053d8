"""The supervisor: bind (127.0.0.1 unless told otherwise), start the workers, report the URL, stop them cleanly.

Workers are fresh interpreters, not forks, so none inherits a half-initialised OpenMP or
compiler state; they share one listening socket. Each says it is ready on a pipe of its own
and holds a lifeline to this process, so no worker outlives it. A worker's stdout is this
process's stderr: what the compiler prints is log, never mistaken for the server's answer.
A worker that dies is replaced; one that keeps dying (more than `max_restarts` in a minute)
means the server cannot serve, and it exits non-zero so whatever runs it sees the failure.
"""

from __future__ import annotations

import signal
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from serving.child import Child, NotReady, spawn
from serving.limits import Limits

# Local runs and tests bind loopback only; the container entrypoint binds 0.0.0.0, as SageMaker needs.
LOOPBACK = "127.0.0.1"
RESTART_WINDOW_SECONDS = 60.0


class ServerError(RuntimeError):
    pass


@dataclass
class Server:
    artifact: Path
    port: int = 0
    workers: int = 1
    predictor: str = "auto"
    startup_timeout: float = 300.0
    limits: Limits = field(default_factory=Limits)
    max_restarts: int = 5
    host: str = LOOPBACK
    sock: socket.socket | None = None
    children: list[Child] = field(default_factory=list)
    predictors: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        assert self.sock is not None
        return f"http://{self.host}:{self.sock.getsockname()[1]}"

    def start(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((self.host, self.port))
        self.sock.listen(2048)
        self.children = [self._spawn() for _ in range(self.workers)]
        for child in self.children:
            try:
                line = child.wait_ready(self.startup_timeout, lambda: "its log is above on stderr")
            except NotReady as exc:
                self.stop()
                raise ServerError(f"worker {child.proc.pid} did not start: {exc}") from None
            self.predictors.append(line.split()[2])

    def _spawn(self) -> Child:
        assert self.sock is not None
        cmd = [
            sys.executable,
            "-m",
            "serving.worker",
            "--fd",
            str(self.sock.fileno()),
            "--model-artifact",
            str(self.artifact),
            "--predictor",
            self.predictor,
            *self.limits.to_args(),
        ]
        return spawn(cmd, pass_fds=(self.sock.fileno(),), stdout=sys.stderr.fileno())

    def wait(self) -> int:
        """Until a signal (returns 0) or workers that keep dying (returns 1)."""
        stopping = False

        def on_signal(signum, frame):
            nonlocal stopping
            stopping = True

        previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
        restarts: list[float] = []
        try:
            while not stopping:
                for i, child in enumerate(self.children):
                    if child.proc.poll() is None or stopping:
                        continue
                    now = time.monotonic()
                    restarts = [t for t in restarts if now - t < RESTART_WINDOW_SECONDS] + [now]
                    if len(restarts) > self.max_restarts:
                        print(
                            f"worker {child.proc.pid} exited with {child.proc.returncode}; {len(restarts) - 1} restarts"
                            f" in the last {RESTART_WINDOW_SECONDS:.0f} s already: stopping",
                            file=sys.stderr,
                        )
                        return 1
                    print(f"worker {child.proc.pid} exited with {child.proc.returncode}; restarting", file=sys.stderr)
                    if not self._replace(i):
                        return 1
                time.sleep(0.2)
            return 0
        finally:
            self.stop()
            for s, handler in previous.items():
                signal.signal(s, handler)

    def _replace(self, index: int) -> bool:
        self.children[index].cut()
        child = self.children[index] = self._spawn()
        try:
            child.wait_ready(self.startup_timeout, lambda: "its log is above on stderr")
        except NotReady as exc:
            print(f"replacement worker {child.proc.pid} did not start: {exc}", file=sys.stderr)
            return False
        return True

    def stop(self, grace: float = 10.0) -> None:
        for child in self.children:
            if child.proc.poll() is None:
                child.proc.terminate()
        deadline = time.monotonic() + grace
        for child in self.children:
            child.stop(max(0.1, deadline - time.monotonic()))
        if self.sock is not None:
            self.sock.close()
