"""The Locust side of `rtb-mlops loadtest`: InvokeEndpoint requests, signed with SigV4 by
botocore, on pooled keep-alive connections (FastHttpUser), at the rate the profile sets.

`rtb-mlops loadtest` runs it as `python -m locust -f <this file> --headless ...`, as a master
when it is given `--locust-workers`; workers on other machines run the same file with
`--worker --master-host=HOST` and the same environment (README, "Load testing"):

    RTB_LOADTEST_ENDPOINT   endpoint name
    RTB_LOADTEST_ROWS       a file of CSV rows, one request each (the registered sample payload)
    RTB_LOADTEST_PROFILE    the profile as JSON (pipelines.loadtest.profile.Profile)
    RTB_LOADTEST_SECONDS    where the master (or a lone process) writes the per-second results
    AWS_REGION and credentials as for boto3; AWS_ENDPOINT_URL for the emulator

The shape asks for ceil(rate / USER_RPS) users and each paces itself to rate / users, so the
users together send the profile's rate.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from locust import FastHttpUser, LoadTestShape, constant_pacing, events, task
from locust.runners import WorkerRunner

from model_registry.aws import boto_session, client
from pipelines.loadtest.client_seconds import Seconds
from pipelines.loadtest.profile import Profile

USER_RPS = 10.0
ENDPOINT = os.environ.get("RTB_LOADTEST_ENDPOINT", "")
PROFILE = Profile.from_json(os.environ.get("RTB_LOADTEST_PROFILE", '{"name": "none", "phases": [], "scaled_by": 1}'))
_ROWS_FILE = os.environ.get("RTB_LOADTEST_ROWS", "")
ROWS = [r.encode() for r in Path(_ROWS_FILE).read_text().splitlines() if r.strip()] if _ROWS_FILE else [b""]
SECONDS = Seconds()
_STARTED = [time.monotonic()]

# Clients and sessions come from the one place that builds them (endpoint, retries, credentials).
_runtime = client("sagemaker-runtime")
BASE_URL = _runtime.meta.endpoint_url
_SIGNER = SigV4Auth(boto_session(_runtime.meta.region_name).get_credentials(), "sagemaker", _runtime.meta.region_name)
PATH = f"/endpoints/{ENDPOINT}/invocations"


def signed_headers(body: bytes) -> dict[str, str]:
    """The headers botocore would send for this InvokeEndpoint (SigV4, service `sagemaker`)."""
    request = AWSRequest(method="POST", url=BASE_URL + PATH, data=body, headers={"Content-Type": "text/csv"})
    _SIGNER.add_auth(request)
    return dict(request.headers.items())


def users_for(rate: float) -> int:
    return max(1, math.ceil(rate / USER_RPS))


class Invoker(FastHttpUser):
    host = BASE_URL
    _turn = 0

    def wait_time(self) -> float:
        """Paced as constant_pacing, at this user's share of the current phase's rate."""
        rate = PROFILE.rate_at(time.monotonic() - _STARTED[0]) or USER_RPS
        return constant_pacing(users_for(rate) / rate)(self)

    @task
    def invoke(self) -> None:
        body = ROWS[self._turn % len(ROWS)]
        self._turn += 1
        self.client.post(PATH, data=body, headers=signed_headers(body), name="InvokeEndpoint")


class Shape(LoadTestShape):
    def tick(self) -> tuple[int, float] | None:
        rate = PROFILE.rate_at(self.get_run_time())
        if rate is None:
            return None
        users = users_for(rate)
        return users, float(users)  # reach each phase's users within a second


@events.test_start.add_listener
def _start(**_: object) -> None:
    _STARTED[0] = time.monotonic()


@events.request.add_listener
def _count(response_time: float, exception: BaseException | None, **_: object) -> None:
    SECONDS.add(time.time(), response_time, exception is not None)


@events.report_to_master.add_listener
def _send(client_id: str, data: dict) -> None:
    data["rtb_seconds"] = SECONDS.drain()


@events.worker_report.add_listener
def _receive(client_id: str, data: dict) -> None:
    SECONDS.merge(data.get("rtb_seconds", {}))


@events.quitting.add_listener
def _write(environment: object, **_: object) -> None:
    runner = getattr(environment, "runner", None)
    if not isinstance(runner, WorkerRunner) and os.environ.get("RTB_LOADTEST_SECONDS"):
        SECONDS.write(Path(os.environ["RTB_LOADTEST_SECONDS"]))
