"""The one place boto3 clients are built.

Local mode is nothing but `AWS_ENDPOINT_URL` (which botocore reads itself) pointing at the
emulator, plus dummy credentials: the same code path as production.
"""

from __future__ import annotations

import boto3
from botocore.client import BaseClient
from botocore.config import Config

# Standard retry mode backs off with jitter on throttling and transient errors; eight
# attempts ride out a burst of ThrottlingException without hiding a real outage.
_CONFIG = Config(retries={"mode": "standard", "max_attempts": 8}, user_agent_appid="rtb-mlops")


def client(service: str, region: str | None = None) -> BaseClient:
    return boto3.session.Session(region_name=region).client(service, config=_CONFIG)
