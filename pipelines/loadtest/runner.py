"""Runs a load test: Locust in its own process along the profile, the instance counts sampled
meanwhile, then CloudWatch read, the timeline built and judged, and the report written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from botocore.client import BaseClient

from pipelines.loadtest import client_seconds, locustfile_path, observe, timeline
from pipelines.loadtest.profile import Profile
from pipelines.loadtest.target import Target
from pipelines.loadtest.verdict import Criteria, Outcome, judge
from serving.child import dies_with_parent

# Locust needs a moment to start and to stop its users; beyond that a run is a hang.
_LOCUST_SLACK_SECONDS = 60


@dataclass(frozen=True)
class Clients:
    sm: BaseClient
    cw: BaseClient


def environment_notes() -> dict[str, Any]:
    """The emulator's settings when AWS_ENDPOINT_URL names it (its clock, its local instance
    cap), which the figures depend on; empty on AWS."""
    url = os.environ.get("AWS_ENDPOINT_URL", "")
    if not url.startswith("http://127.0.0.1:"):
        return {}
    try:
        with urllib.request.urlopen(f"{url}/_emulator/health", timeout=5) as r:  # noqa: S310 - 127.0.0.1 only
            return json.loads(r.read()).get("settings", {})
    except (OSError, ValueError):
        return {}


@dataclass(frozen=True)
class Distribution:
    """Locust workers this run's master waits for, and the address and port it listens on for
    them (127.0.0.1 unless the user names another: workers on this machine then)."""

    workers: int = 0
    bind_host: str = "127.0.0.1"
    port: int = 5557  # Locust's own default


def run_locust(target: Target, profile: Profile, rows: list[str], folder: Path, spread: Distribution) -> Path:
    """Runs Locust headless (as a master when workers are expected); the path of the
    per-second results it writes."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "rows.csv").write_text("\n".join(rows) + "\n")
    # What workers of a distributed run need beside the rows (README, "Load testing").
    (folder / "profile.json").write_text(profile.to_json())
    env = {
        **os.environ,
        "RTB_LOADTEST_ENDPOINT": target.endpoint,
        "RTB_LOADTEST_ROWS": str(folder / "rows.csv"),
        "RTB_LOADTEST_PROFILE": profile.to_json(),
        "RTB_LOADTEST_SECONDS": str(folder / "seconds.json"),
    }
    cmd = [
        sys.executable, "-m", "locust", "-f", str(locustfile_path()), "--headless", "--only-summary",
        "--csv", str(folder / "locust"), "--loglevel", "WARNING", "--exit-code-on-error", "0",
    ]  # fmt: skip
    if spread.workers:
        # Workers connect to this master (README, "Load testing"); it starts once all have.
        cmd += ["--master", "--expect-workers", str(spread.workers)]
        cmd += ["--master-bind-host", spread.bind_host, "--master-bind-port", str(spread.port)]
    with open(folder / "locust.log", "w") as log:
        subprocess.run(
            dies_with_parent(cmd), env=env, stdout=log, stderr=subprocess.STDOUT,
            timeout=profile.seconds + _LOCUST_SLACK_SECONDS, check=True,
        )  # fmt: skip
    return folder / "seconds.json"


def run(
    clients: Clients,
    target: Target,
    profile: Profile,
    rows: list[str],
    criteria: Criteria,
    out: Path,
    spread: Distribution = Distribution(),
    environment: dict[str, Any] | None = None,
) -> dict:
    """Runs the test and returns the report. Rates in `profile` are what this side sends; with
    an emulator modelling the fleet 1:N (`environment["traffic_scale"]`) each stands for N."""
    environment = environment or {}
    traffic = float(environment.get("traffic_scale", 1))
    sampler = observe.InstanceSampler(clients.sm, target.endpoint, target.variant)
    started = time.time()
    sampler.start()
    try:
        seconds_file = run_locust(target, profile, rows, out / "locust", spread)
    finally:
        samples = sampler.stop()
    ended = time.time()
    series = observe.metric_series(clients.cw, target.endpoint, target.variant, started - 1, ended + 1)
    client = client_seconds.read(seconds_file)
    points = timeline.build(started, client, series, samples)
    step_at = profile.step_starts()
    at_step = timeline.sample_at(samples, started + step_at)
    capacity_rps = (at_step.current if at_step else target.min_instances) * target.target_rps
    outcome = Outcome(
        points=points,
        requests=sum(c.requests for c in client.values()),
        errors=sum(c.failures for c in client.values()),
        scale_out_expected=profile.peak_rps * traffic > capacity_rps,
        scale_out_seconds=timeline.scale_out_seconds(started, step_at, samples),
    )
    verdict = judge(outcome, criteria)
    return {
        "endpoint": target.as_json(),
        "profile": {**json.loads(profile.to_json()), "step_at_seconds": profile.step_starts()},
        "criteria": asdict(criteria),
        "environment": environment,
        "started": started,
        "timeline": [asdict(p) for p in outcome.points],
        "scale_events": [e.as_json() for e in timeline.scale_events(started, samples)],
        "scale_out_seconds": outcome.scale_out_seconds,
        "requests": outcome.requests,
        "errors": outcome.errors,
        "cloudwatch": {qid: [[round(t - started, 1), v] for t, v in sorted(s.items())] for qid, s in series.items()},
        "verdict": {"passed": verdict.passed, "reasons": verdict.reasons},
    }
