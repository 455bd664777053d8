"""The one place boto3 clients are built.

Local mode is nothing but `AWS_ENDPOINT_URL` (which botocore reads itself) pointing at the
emulator, plus dummy credentials: the same code path as production.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Mapping

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


def boto_session(region: str) -> boto3.session.Session:
    """A session for libraries that want one (the SageMaker SDK's PipelineSession)."""
    return boto3.session.Session(region_name=region)


@functools.lru_cache(maxsize=64)
def _client(
    service: str, region: str | None, endpoint: str | None, key_id: str | None, given: tuple[str, ...] = ()
) -> BaseClient:
    keys = dict(zip(("aws_access_key_id", "aws_secret_access_key", "aws_session_token"), given, strict=False))
    # Clients are thread-safe; making them from one session is not.
    with _LOCK:
        return _session().client(service, region_name=region, config=_CONFIG, **keys)


def client(service: str, region: str | None = None, credentials: Mapping[str, str] | None = None) -> BaseClient:
    """A client reused for the process's life (building one costs ~0.2 s), rebuilt when the
    endpoint or credentials in the environment change. `credentials` (AWS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN) call as another identity than the environment's,
    as an AWS service does for the role it acts as."""
    given = (
        tuple(
            credentials[k]
            for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
            if k in credentials
        )
        if credentials
        else ()
    )
    return _client(service, region, os.environ.get("AWS_ENDPOINT_URL"), os.environ.get("AWS_ACCESS_KEY_ID"), given)


def forget_clients() -> None:
    """Drop cached clients (tests attach per-test hooks to the clients they get)."""
    _client.cache_clear()
