"""A bounded HTTP load test against a model server on 127.0.0.1: requests/s and latency
percentiles. wrk when it is installed (accurate at high rates); otherwise an asyncio
client of the same shape (keep-alive connections, rotating bodies), which saturates first.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from urllib.parse import urlparse

from serving.child import dies_with_parent

_WRK_SCRIPT = """
local bodies = {%s}
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "text/csv"
request = function()
  i = i %% #bodies + 1
  return wrk.format(nil, nil, nil, bodies[i])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %%d %%d %%d %%d %%d %%d %%d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
    e.connect + e.read + e.write + e.status + e.timeout))
end
"""


@dataclass(frozen=True)
class LoadResult:
    connections: int
    seconds: float
    requests: int
    errors: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    tool: str

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def _check_local(url: str) -> None:
    if urlparse(url).hostname != "127.0.0.1":
        raise ValueError(f"load tests only target 127.0.0.1, not {url}")


def run_wrk(wrk: str, url: str, bodies: list[bytes], connections: int, seconds: int) -> LoadResult:
    _check_local(url)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_WRK_SCRIPT % ", ".join(json.dumps(b.decode()) for b in bodies))
    try:
        cmd = dies_with_parent(
            [
                wrk,
                "-t1",
                f"-c{connections}",
                f"-d{seconds}s",
                "--timeout",
                "2s",
                "-s",
                script.name,
                f"{url}/invocations",
            ]
        )
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30, check=True).stdout
    finally:
        os.unlink(script.name)
    line = next(ln for ln in out.splitlines() if ln.startswith("RESULT"))
    requests, micros, p50, p95, p99, worst, errors = (int(v) for v in line.split()[1:])
    return LoadResult(
        connections, micros / 1e6, requests, errors, p50 / 1000, p95 / 1000, p99 / 1000, worst / 1000, "wrk"
    )


async def _connection(host: str, port: int, requests: list[bytes], deadline: float, latencies: list[float]) -> int:
    reader, writer = await asyncio.open_connection(host, port)
    errors, i = 0, 0
    try:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            writer.write(requests[i % len(requests)])
            i += 1
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(next(h.split(b":")[1] for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")))
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            if not head.startswith(b"HTTP/1.1 200"):
                errors += 1
    finally:
        writer.close()
    return errors


def run_asyncio(url: str, bodies: list[bytes], connections: int, seconds: float) -> LoadResult:
    _check_local(url)
    parsed = urlparse(url)
    requests = [
        b"POST /invocations HTTP/1.1\r\nHost: %s\r\nContent-Type: text/csv\r\nContent-Length: %d\r\n\r\n%s"
        % (parsed.netloc.encode(), len(b), b)
        for b in bodies
    ]
    latencies: list[float] = []

    async def main() -> int:
        deadline = time.perf_counter() + seconds
        results = await asyncio.gather(
            *(_connection(parsed.hostname, parsed.port, requests, deadline, latencies) for _ in range(connections))
        )
        return sum(results)

    began = time.perf_counter()
    errors = asyncio.run(main())
    elapsed = time.perf_counter() - began
    ordered = sorted(latencies) or [0.0]

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000

    return LoadResult(
        connections, elapsed, len(latencies), errors, pct(0.50), pct(0.95), pct(0.99), ordered[-1] * 1000, "asyncio"
    )


def run(url: str, bodies: list[bytes], connections: int, seconds: float) -> LoadResult:
    wrk = shutil.which("wrk")
    if wrk and seconds >= 1:
        return run_wrk(wrk, url, bodies, connections, int(seconds))
    return run_asyncio(url, bodies, connections, seconds)
