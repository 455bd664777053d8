"""Single-row latency while 6 MB requests are in flight: the worker's slices against none.

Our server with 2 workers, the same single-row load (8 keep-alive connections, each sending
its next row when the last is answered) first alone, then while two clients send 6 MB requests
(~420k rows) back to back. Every single-row latency counts, however long it waited (wrk would
drop those it gives up on from its percentiles). Run with the large body
scored whole (`--slice-rows` far above its rows: the behaviour before slicing) and in slices
of the default size, alternately, in one run. Prints single-row p99 in each case and the
ratios. Only 127.0.0.1 is ever a target; every run is bounded in time.

    .venv/bin/python -m bench.large_requests [--duration 5] [--rounds 2]
"""

from __future__ import annotations

import argparse
import http.client
import statistics
import threading
from urllib.parse import urlparse

from bench.serving import example_model, server
from emulator.loadtest import run_asyncio
from serving.app import DEFAULT_SLICE_ROWS, MAX_PAYLOAD_BYTES

MODES = {"whole": 10**9, "sliced": DEFAULT_SLICE_ROWS}


def large_body(row: bytes) -> bytes:
    body = b"\n".join([row] * (MAX_PAYLOAD_BYTES // (len(row) + 1)))
    return body[: MAX_PAYLOAD_BYTES - 1].rsplit(b"\n", 1)[0]


def send_large(url: str, body: bytes, stop: threading.Event, done: list[float]) -> None:
    target = urlparse(url)
    conn = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
    while not stop.is_set():
        conn.request("POST", "/invocations", body=body, headers={"Content-Type": "text/csv"})
        response = conn.getresponse()
        response.read()
        done.append(response.status)
    conn.close()


def measure(url: str, bodies: list[bytes], duration: int, large: bytes | None) -> tuple[float, float, float, int]:
    """(single-row req/s, p99 ms, max ms, 6 MB requests answered)."""
    stop, done = threading.Event(), []
    senders = [threading.Thread(target=send_large, args=(url, large, stop, done)) for _ in range(2 if large else 0)]
    for t in senders:
        t.start()
    try:
        result = run_asyncio(url, bodies, 8, duration)
    finally:
        stop.set()
        for t in senders:
            t.join(120)
    return result.rps, result.p99_ms, result.max_ms, len(done)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--duration", type=int, default=5, help="seconds per load run")
    p.add_argument("--rounds", type=int, default=2)
    args = p.parse_args(argv)
    model, bodies = example_model()
    large = large_body(bodies[0])
    results: dict[tuple[str, bool], list[tuple[float, float, float, int]]] = {}
    for _ in range(args.rounds):
        for mode, rows in MODES.items():
            with server("ours", model, 2, ("--slice-rows", str(rows))) as url:
                for with_large in (False, True):
                    got = measure(url, bodies, args.duration, large if with_large else None)
                    results.setdefault((mode, with_large), []).append(got)
    rows = large.count(b"\n") + 1
    print(f"single-row load, 8 connections, 2 workers; 6 MB bodies of {rows:,} rows")
    print(f"{'large body':<10} {'6 MB in flight':<15} {'req/s':>8} {'p99 ms':>9} {'max ms':>9} {'6 MB answered':>14}")
    p99 = {}
    for (mode, with_large), runs in results.items():
        rps = statistics.median(r[0] for r in runs)
        p99[mode, with_large] = statistics.median(r[1] for r in runs)
        worst, answered = max(r[2] for r in runs), sum(r[3] for r in runs)
        flight = "yes" if with_large else "no"
        print(f"{mode:<10} {flight:<15} {rps:>8,.0f} {p99[mode, with_large]:>9.2f} {worst:>9.1f} {answered:>14}")
    print(
        f"single-row p99 with 6 MB requests in flight: whole {p99['whole', True]:,.1f} ms, "
        f"sliced {p99['sliced', True]:,.1f} ms ({p99['whole', True] / p99['sliced', True]:,.0f}x lower)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
