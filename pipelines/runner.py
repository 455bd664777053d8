"""Upserting the pipeline, starting an execution and following it to the end."""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TextIO

from botocore.client import BaseClient
from botocore.exceptions import ClientError

TERMINAL = ("Succeeded", "Failed", "Stopped")


@dataclass(frozen=True)
class StepState:
    name: str
    status: str
    start: datetime | None
    end: datetime | None
    failure_reason: str = ""
    metadata: dict = field(default_factory=dict)

    @property
    def seconds(self) -> float | None:
        if self.start is None:
            return None
        end = self.end or datetime.now(self.start.tzinfo)
        return (end - self.start).total_seconds()

    @classmethod
    def from_api(cls, s: dict) -> StepState:
        return cls(
            name=s["StepName"],
            status=s["StepStatus"],
            start=s.get("StartTime"),
            end=s.get("EndTime"),
            failure_reason=s.get("FailureReason", ""),
            metadata=s.get("Metadata", {}),
        )


@dataclass(frozen=True)
class ExecutionResult:
    arn: str
    status: str
    failure_reason: str
    steps: list[StepState]
    seconds: float


def upsert(sm: BaseClient, name: str, definition: str, role_arn: str, description: str) -> str:
    """Update the pipeline, creating it the first time; repeatable."""
    try:
        return sm.update_pipeline(
            PipelineName=name, PipelineDefinition=definition, RoleArn=role_arn, PipelineDescription=description
        )["PipelineArn"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceNotFound":
            raise
    return sm.create_pipeline(
        PipelineName=name,
        PipelineDefinition=definition,
        RoleArn=role_arn,
        PipelineDescription=description,
        ClientRequestToken=str(uuid.uuid4()),
    )["PipelineArn"]


def start(sm: BaseClient, name: str, parameters: dict[str, str], display_name: str) -> str:
    return sm.start_pipeline_execution(
        PipelineName=name,
        PipelineExecutionDisplayName=display_name,
        PipelineParameters=[{"Name": k, "Value": str(v)} for k, v in parameters.items()],
        ClientRequestToken=str(uuid.uuid4()),
    )["PipelineExecutionArn"]


def steps(sm: BaseClient, execution_arn: str) -> list[StepState]:
    out: list[StepState] = []
    for page in sm.get_paginator("list_pipeline_execution_steps").paginate(
        PipelineExecutionArn=execution_arn, SortOrder="Ascending"
    ):
        out.extend(StepState.from_api(s) for s in page["PipelineExecutionSteps"])
    return out


def _fmt(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{seconds:.1f}s"


def wait(
    sm: BaseClient,
    execution_arn: str,
    out: TextIO = sys.stdout,
    poll_seconds: float = 5.0,
    heartbeat_seconds: float = 30.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> ExecutionResult:
    """Print each step's status as it changes, with the elapsed time, until the end."""
    began = clock()
    seen: dict[str, str] = {}
    last_print = began
    while True:
        desc = sm.describe_pipeline_execution(PipelineExecutionArn=execution_arn)
        current = steps(sm, execution_arn)
        now = clock()
        for s in current:
            if seen.get(s.name) != s.status:
                seen[s.name] = s.status
                took = f" ({_fmt(s.seconds)})" if s.end and s.seconds is not None else ""
                reason = f": {s.failure_reason}" if s.failure_reason else ""
                print(f"[{_fmt(now - began):>7}] {s.name:<24} {s.status}{took}{reason}", file=out, flush=True)
                last_print = now
        status = desc["PipelineExecutionStatus"]
        if status in TERMINAL:
            print(f"[{_fmt(now - began):>7}] execution {status}", file=out, flush=True)
            return ExecutionResult(execution_arn, status, desc.get("FailureReason", ""), current, now - began)
        if now - last_print >= heartbeat_seconds:
            running = [s.name for s in current if s.status == "Executing"] or ["(starting)"]
            print(f"[{_fmt(now - began):>7}] still {status}: {', '.join(running)}", file=out, flush=True)
            last_print = now
        sleep(poll_seconds)
