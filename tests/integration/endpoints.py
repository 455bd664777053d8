"""Changing the shared flow's endpoint from a test, as an operator would."""

from __future__ import annotations

import time

from botocore.exceptions import ClientError


def update_when_ready(sm, timeout: float = 60, **request) -> None:
    """UpdateEndpoint, once the endpoint takes updates.

    Application Auto Scaling changes the shared endpoint on its own (bringing a capacity inside
    the scalable target's bounds, scaling in an idle variant), and AWS refuses UpdateEndpoint
    while such a change is in progress; an operator waits it out, and so do the tests."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            sm.update_endpoint(**request)
            return
        except ClientError as e:
            if "in-progress" not in e.response["Error"]["Message"] or time.monotonic() > deadline:
                raise
        time.sleep(0.3)
