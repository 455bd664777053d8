"""The supervisor: bind 127.0.0.1, start the workers, report the URL, stop them cleanly.

Workers are fresh interpreters, not forks, so none inherits a half-initialised OpenMP or
compiler state; they share one listening socket. If a worker dies the whole server exits
non-zero, so whatever runs it (a person, the emulator) sees the failure.
"""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HOST = "127.0.0.1"


class ServerError(RuntimeError):
    pass


@dataclass
class Server:
    artifact: Path
    port: int = 0
    workers: int = 1
    predictor: str = "auto"
    startup_timeout: float = 300.0
    sock: socket.socket | None = None
    procs: list[subprocess.Popen] = field(default_factory=list)
    predictors: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        assert self.sock is not None
        return f"http://{HOST}:{self.sock.getsockname()[1]}"

    def start(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((HOST, self.port))
        self.sock.listen(2048)
        self.sock.set_inheritable(True)
        pipes = [self._spawn() for _ in range(self.workers)]
        deadline = time.monotonic() + self.startup_timeout
        for proc, read_fd in pipes:
            self.predictors.append(self._await_ready(proc, read_fd, deadline))

    def _spawn(self) -> tuple[subprocess.Popen, int]:
        read_fd, write_fd = os.pipe()
        assert self.sock is not None
        cmd = [
            sys.executable,
            "-m",
            "serving.worker",
            "--fd",
            str(self.sock.fileno()),
            "--ready-fd",
            str(write_fd),
            "--model-artifact",
            str(self.artifact),
            "--predictor",
            self.predictor,
        ]
        proc = subprocess.Popen(cmd, pass_fds=(self.sock.fileno(), write_fd))
        os.close(write_fd)
        self.procs.append(proc)
        return proc, read_fd

    def _await_ready(self, proc: subprocess.Popen, read_fd: int, deadline: float) -> str:
        try:
            ready, _, _ = select.select([read_fd], [], [], max(0.0, deadline - time.monotonic()))
            line = os.read(read_fd, 256).decode() if ready else ""
        finally:
            os.close(read_fd)
        if not line.startswith("ready"):
            self.stop()
            code = proc.poll()
            raise ServerError(
                f"worker {proc.pid} did not start ({'exit ' + str(code) if code is not None else 'timed out'})"
            )
        return line.split()[2]

    def wait(self) -> int:
        """Until a signal (returns 0) or a worker's death (returns 1)."""
        stopping = False

        def on_signal(signum, frame):
            nonlocal stopping
            stopping = True

        previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            while not stopping:
                dead = [p for p in self.procs if p.poll() is not None]
                if dead:
                    print(f"worker {dead[0].pid} exited with {dead[0].returncode}; stopping", file=sys.stderr)
                    return 1
                time.sleep(0.2)
            return 0
        finally:
            self.stop()
            for s, handler in previous.items():
                signal.signal(s, handler)

    def stop(self, grace: float = 10.0) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        deadline = time.monotonic() + grace
        for p in self.procs:
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if self.sock is not None:
            self.sock.close()
