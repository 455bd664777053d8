"""The one place boto3 clients are built.

Local mode is nothing but `AWS_ENDPOINT_URL` (which botocore reads itself) pointing at the
emulator, plus dummy credentials: the same code path as production.
"""

from __future__ import annotations

import functools
import threading

import boto3
from botocore.client import BaseClient
from botocore.config import Config

# Standard retry mode backs off with jitter on throttling and transient errors; eight
# attempts ride out a burst of ThrottlingException without hiding a real outage.
_CONFIG = Config(retries={"mode": "standard", "max_attempts": 8}, user_agent_appid="rtb-mlops")
_LOCK = threading.Lock()


@functools.cache
def _session() -> boto3.session.Session:
    """One session per process, so each service model is parsed once (the SageMaker model
    alone is megabytes of JSON: a cold Lambda pays for it once)."""
    return boto3.session.Session()


def client(service: str, region: str | None = None) -> BaseClient:
    # Clients are thread-safe; making them from one session is not.
    with _LOCK:
        return _session().client(service, region_name=region, config=_CONFIG)
