"""A Lambda invocation's output in CloudWatch Logs, where AWS puts it.

Group `/aws/lambda/FUNCTION`, one stream per invocation (AWS keeps one per execution
environment; the emulator starts a fresh interpreter each time), framed by the runtime's own
`START`/`END`/`REPORT` lines, so a person or a test finds an invocation the way they would on
AWS: by its request id in the function's log group.
"""

from __future__ import annotations

import time
import uuid

from moto.logs.models import logs_backends


def record(account: str, region: str, function: str, request_id: str, output: str, duration_ms: float) -> None:
    logs = logs_backends[account][region]
    group = f"/aws/lambda/{function}"
    if group not in logs.groups:
        logs.create_log_group(group, tags={})
    stream = time.strftime("%Y/%m/%d/[$LATEST]", time.gmtime()) + uuid.uuid4().hex
    logs.create_log_stream(group, stream)
    lines = [
        f"START RequestId: {request_id} Version: $LATEST",
        *(ln for ln in output.splitlines() if ln.strip()),
        f"END RequestId: {request_id}",
        f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms",
    ]
    now = int(time.time() * 1000)
    logs.put_log_events(group, stream, [{"timestamp": now, "message": line} for line in lines])
