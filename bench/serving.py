"""Our model server against a reference built like the SageMaker XGBoost container.

Same model, same machine, same load generator (wrk), run alternately at 1 and 2 workers
over a sweep of concurrent connections. Prints requests/s and p50/p99 for each, the
ratios, and where the time goes inside one request; writes a throughput-vs-p99 chart.
Only 127.0.0.1 is ever a target and every run is bounded in time.

    .venv/bin/python -m bench.serving [--model model.tar.gz] [--duration 5] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import timeit
import urllib.request
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from bench import serving_chart

REPO = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"


@dataclass(frozen=True)
class Run:
    server: str
    workers: int
    connections: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0:
        sys.exit("wrk is not installed; install it with: sudo apt-get install -y wrk")
    print("installing wrk from Debian ...", flush=True)
    subprocess.run(["apt-get", "update", "-qq"], check=True, capture_output=True, timeout=300)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, capture_output=True, timeout=300)
    return shutil.which("wrk") or sys.exit("wrk installation failed")


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def wait_ready(url: str, proc: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/ping", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} not ready after {timeout} s")


@contextmanager
def server(kind: str, model: Path, workers: int, flags: tuple[str, ...] = ()):
    port = free_port()
    bin_dir = Path(sys.executable).parent
    if kind == "reference":
        # gunicorn + gevent + Flask, as the stock container (the emulator serves it the same way).
        cmd = [
            sys.executable,
            "-m",
            "emulator.stock_xgboost_server",
            "--model-artifact",
            str(model),
            "--port",
            str(port),
            "--workers",
            str(workers),
        ]
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
    else:
        cmd = [
            str(bin_dir / "rtb-mlops"),
            "serve",
            "--model-artifact",
            str(model),
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--predictor",
            "compiled",
            *flags,
        ]
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL)
    url = f"http://{HOST}:{port}"
    try:
        wait_ready(url, proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()


def load(wrk: str, url: str, bodies: list[bytes], connections: int, duration: int) -> tuple[float, float, float, int]:
    from emulator.loadtest import run_wrk

    r = run_wrk(wrk, url, bodies, connections, duration)
    return r.rps, r.p50_ms, r.p99_ms, r.errors


def in_process(model: Path, bodies: list[bytes]) -> dict[str, float]:
    """Microseconds per single-row request spent in each part, inside one process."""
    import numpy as np
    import xgboost as xgb

    from emulator.stock_xgboost_server import csv_to_dmatrix
    from model_registry.artifact.csv_rows import parse_rows
    from model_registry.artifact.validate import load_artifact
    from serving.app import InferenceApp
    from serving.predictors import XGBoostPredictor, load_predictor

    _, booster = load_artifact(model)
    compiled = load_predictor(booster, "compiled")
    plain = XGBoostPredictor(booster)
    app = InferenceApp(compiled)
    body = bodies[0]
    rows = parse_rows(body, compiled.num_features)
    scores = compiled.predict(rows)
    text = body.decode().strip()
    dmat = csv_to_dmatrix(text)

    def us(fn, n=3000) -> float:
        return min(timeit.repeat(fn, number=n, repeat=3)) / n * 1e6

    return {
        "ours: parse csv": us(lambda: parse_rows(body, compiled.num_features)),
        "ours: predict (compiled)": us(lambda: compiled.predict(rows)),
        "ours: predict (xgboost inplace_predict)": us(lambda: plain.predict(rows), 1000),
        "ours: format": us(lambda: "\n".join(map(str, scores)).encode()),
        "ours: whole app.handle": us(lambda: app.handle(b"POST", b"/invocations", b"text/csv", body)),
        "reference: sniff + numpy + DMatrix": us(lambda: csv_to_dmatrix(text), 1000),
        "reference: predict": us(lambda: booster.predict(dmat, validate_features=False), 1000),
        "reference: format": us(lambda: ",".join(map(str, np.asarray(scores).tolist()))),
        "xgboost version": float(xgb.__version__.replace(".", "")[:3]) / 100,
    }


def example_model() -> tuple[Path, list[bytes]]:
    from model_registry.artifact.payload import read_sample_payload
    from model_registry.example_model import build_example_model

    out = REPO / "build" / "example"
    if not (out / "model.tar.gz").exists():
        build_example_model(out)
    payload = read_sample_payload(out / "payload.tar.gz")
    return out / "model.tar.gz", [b.strip() for _, b in sorted(payload.bodies.items())][:50]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", type=Path, help="model.tar.gz (default: the example model)")
    p.add_argument("--duration", type=int, default=5, help="seconds per load run")
    p.add_argument("--rounds", type=int, default=2, help="alternating rounds per configuration")
    p.add_argument("--connections", default="1,4,8,16,32")
    p.add_argument("--workers", default="1,2")
    p.add_argument("--chart", type=Path, default=REPO / "docs" / "serving-throughput-p99.png")
    p.add_argument("--json", type=Path, default=REPO / "build" / "bench" / "serving.json")
    args = p.parse_args(argv)
    wrk = ensure_wrk()
    model, bodies = example_model()
    if args.model:
        model = args.model
    runs: list[Run] = []
    for workers in (int(w) for w in args.workers.split(",")):
        for rnd in range(args.rounds):
            order = ("ours", "reference") if rnd % 2 == 0 else ("reference", "ours")
            for kind in order:
                with server(kind, model, workers) as url:
                    load(wrk, url, bodies, 4, 2)  # warm-up
                    for c in (int(c) for c in args.connections.split(",")):
                        rps, p50, p99, errors = load(wrk, url, bodies, c, args.duration)
                        runs.append(Run(kind, workers, c, round(rps), round(p50, 3), round(p99, 3), errors))
                        figures = f"{rps:>9,.0f} req/s  p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  errors {errors}"
                        print(f"{kind:>9} {workers}W c={c:<3} {figures}", flush=True)
    print()
    print(f"{'workers':>7} {'server':>9} {'best req/s':>11} {'p99 there':>10} {'best req/s with p99<=3ms':>26}")
    summary = {}
    for workers in sorted({r.workers for r in runs}):
        for kind in ("ours", "reference"):
            mine = [r for r in runs if r.server == kind and r.workers == workers]
            best = max(mine, key=lambda r: r.rps)
            within = max((r for r in mine if r.p99_ms <= 3.0), key=lambda r: r.rps, default=None)
            summary[(kind, workers)] = (best, within)
            shown = f"{within.rps:,} (c={within.connections}, p99 {within.p99_ms} ms)" if within else "none"
            print(f"{workers:>7} {kind:>9} {best.rps:>11,} {best.p99_ms:>8.2f}ms {shown:>26}")
        ours, ref = summary[("ours", workers)][0], summary[("reference", workers)][0]
        ours_ok = summary[("ours", workers)][1]
        ratio_ok = f"{ours_ok.rps / ref.rps:.1f}x" if ours_ok else "n/a"
        ratio = ours.rps / ref.rps
        print(f"{workers:>7} {'ratio':>9} {ratio:>10.1f}x   (ours within p99<=3ms vs reference best: {ratio_ok})")
    print()
    breakdown = in_process(model, bodies)
    print("per-request work inside one process (single row, µs):")
    for name, value in breakdown.items():
        if name != "xgboost version":
            print(f"  {name:<42} {value:8.1f}")
    points = [serving_chart.LoadPoint(r.server, r.workers, r.rps, r.p99_ms, r.connections) for r in runs]
    note = f"wrk on this machine, {args.duration} s per run; each point the best of {args.rounds} rounds"
    serving_chart.write(serving_chart.best_of_rounds(points), args.chart, note)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"runs": [asdict(r) for r in runs], "in_process_us": breakdown}, indent=2))
    print(f"\nchart: {args.chart}\nraw:   {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
