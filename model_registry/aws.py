"""The one place boto3 clients are built.

Local mode is nothing but `AWS_ENDPOINT_URL` (which botocore reads itself) pointing at the
emulator, plus dummy credentials: the same code path as production.
"""

from __future__ import annotations

import functools

import boto3
import botocore.session
from botocore.client import BaseClient
from botocore.config import Config

# Standard retry mode backs off with jitter on throttling and transient errors; eight
# attempts ride out a burst of ThrottlingException without hiding a real outage.
_CONFIG = Config(retries={"mode": "standard", "max_attempts": 8}, user_agent_appid="rtb-mlops")


@functools.cache
def _shared_session() -> botocore.session.Session:
    """One botocore session per process, so each service model is parsed once (the
    SageMaker model alone is megabytes of JSON: a cold Lambda pays for it once)."""
    return botocore.session.get_session()


def client(service: str, region: str | None = None) -> BaseClient:
    return boto3.session.Session(botocore_session=_shared_session()).client(service, region_name=region, config=_CONFIG)
