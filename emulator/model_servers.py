"""Real model-server processes (`serving/`) behind the emulator's endpoints and load tests."""

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

_URL = re.compile(r" at (http://127\.0\.0\.1:\d+) ")


class ModelServerError(RuntimeError):
    pass


@dataclass
class ModelServer:
    """One `python -m serving` process: its URL, and the tail of its stderr for diagnostics."""

    artifact: Path
    environment: dict[str, str]
    workers: int = 1
    proc: subprocess.Popen | None = None
    url: str = ""
    stderr_tail: deque = field(default_factory=lambda: deque(maxlen=30))

    def start(self, timeout: float = 300.0) -> str:
        env = {**os.environ, **self.environment}
        cmd = [
            sys.executable,
            "-m",
            "serving",
            "--model-artifact",
            str(self.artifact),
            "--port",
            "0",
            "--workers",
            str(self.workers),
        ]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        threading.Thread(target=self._drain_stderr, daemon=True).start()
        line_box: list[str] = []
        reader = threading.Thread(target=lambda: line_box.append(self.proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout)
        match = _URL.search(line_box[0]) if line_box else None
        if not match:
            self.stop()
            raise ModelServerError(f"model server did not start: {self.reason()}")
        self.url = match.group(1)
        with urllib.request.urlopen(f"{self.url}/ping", timeout=5) as r:  # noqa: S310 - our 127.0.0.1 server
            if r.status != 200:
                raise ModelServerError(f"model server at {self.url} answered /ping with {r.status}")
        return self.url

    def _drain_stderr(self) -> None:
        assert self.proc is not None
        for line in self.proc.stderr:
            self.stderr_tail.append(line.rstrip())

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def reason(self) -> str:
        code = self.proc.poll() if self.proc else None
        tail = " | ".join(list(self.stderr_tail)[-5:])
        return f"exit status {code}: {tail}" if code is not None else tail or "no output"

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
