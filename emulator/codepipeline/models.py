"""The state of CodePipeline executions: each execution, its stages' and actions' runs, and
their shapes in the API (GetPipelineExecution, ListPipelineExecutions, GetPipelineState,
ListActionExecutions, as the CodePipeline API Reference shapes them)."""

from __future__ import annotations

import re
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# `#{namespace.name}`: pipeline variables are `#{variables.NAME}` (V2), an action's output
# variables `#{ITS_NAMESPACE.NAME}`, `#{codepipeline.PipelineExecutionId}` the execution's id
# (CodePipeline User Guide, "Variables reference").
_REFERENCE = re.compile(r"#\{([A-Za-z0-9@\-_]+)\.([A-Za-z0-9@\-_]+)\}")


class Unresolved(ValueError):
    """A configuration refers to a variable nothing has set."""


def resolve(value: str, scope: dict[str, dict[str, str]]) -> str:
    def one(match: re.Match) -> str:
        namespace, name = match.groups()
        if name not in scope.get(namespace, {}):
            raise Unresolved(match.group(0))
        return scope[namespace][name]

    return _REFERENCE.sub(one, value)


def now() -> datetime:
    return datetime.now(UTC)


@dataclass
class ActionRun:
    stage: str
    action: dict[str, Any]  # its declaration
    execution_id: str
    pipeline_version: int
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    status: str = "InProgress"
    summary: str = ""
    token: str = ""
    external_id: str = ""
    external_url: str = ""
    error: dict[str, str] | None = None
    updated_by: str = ""
    start: datetime = field(default_factory=now)
    changed: datetime = field(default_factory=now)
    resolved: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)  # output variables
    output_artifacts: list[dict[str, Any]] = field(default_factory=list)
    decided: threading.Event = field(default_factory=threading.Event)  # approvals: a person answered

    @property
    def name(self) -> str:
        return self.action["name"]

    def finish(self, status: str, summary: str = "", error: dict[str, str] | None = None) -> None:
        self.status, self.changed, self.error = status, now(), error
        if summary:
            self.summary = summary
        self.token = ""

    def latest(self) -> dict[str, Any]:
        """ActionExecution, for GetPipelineState."""
        out: dict[str, Any] = {
            "actionExecutionId": self.id,
            "status": self.status,
            "lastStatusChange": self.changed,
        }
        for key, value in (
            ("summary", self.summary),
            ("token", self.token),
            ("externalExecutionId", self.external_id),
            ("externalExecutionUrl", self.external_url),
            ("lastUpdatedBy", self.updated_by),
            ("errorDetails", self.error),
        ):
            if value:
                out[key] = value
        return out

    def detail(self) -> dict[str, Any]:
        """ActionExecutionDetail, for ListActionExecutions."""
        result: dict[str, Any] = {"externalExecutionSummary": self.summary}
        if self.external_id:
            result.update(externalExecutionId=self.external_id, externalExecutionUrl=self.external_url)
        if self.error:
            result["errorDetails"] = self.error
        return {
            "pipelineExecutionId": self.execution_id,
            "actionExecutionId": self.id,
            "pipelineVersion": self.pipeline_version,
            "stageName": self.stage,
            "actionName": self.name,
            "startTime": self.start,
            "lastUpdateTime": self.changed,
            "status": self.status,
            **({"updatedBy": self.updated_by} if self.updated_by else {}),
            "input": {
                "actionTypeId": self.action["actionTypeId"],
                "configuration": self.action.get("configuration", {}),
                "resolvedConfiguration": self.resolved,
                **({"roleArn": self.action["roleArn"]} if self.action.get("roleArn") else {}),
                **({"namespace": self.action["namespace"]} if self.action.get("namespace") else {}),
                "inputArtifacts": [{"name": a["name"]} for a in self.action.get("inputArtifacts", [])],
            },
            "output": {
                "outputArtifacts": self.output_artifacts,
                "executionResult": result,
                "outputVariables": self.outputs,
            },
        }


@dataclass
class Execution:
    pipeline: dict[str, Any]  # the declaration it runs (the version current at its start)
    variables: dict[str, str]
    trigger: dict[str, str]
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    status: str = "InProgress"
    summary: str = ""
    start: datetime = field(default_factory=now)
    updated: datetime = field(default_factory=now)
    stage: str = ""  # the stage it is in, or waits in front of
    waiting: bool = False
    actions: list[ActionRun] = field(default_factory=list)
    namespaces: dict[str, dict[str, str]] = field(default_factory=dict)
    artifacts: dict[str, str] = field(default_factory=dict)  # artifact name -> s3:// zip
    stop: threading.Event = field(default_factory=threading.Event)
    abandon: bool = False

    @property
    def name(self) -> str:
        return self.pipeline["name"]

    @property
    def mode(self) -> str:
        return self.pipeline.get("executionMode") or "SUPERSEDED"

    def set(self, status: str, summary: str = "") -> None:
        self.status, self.updated = status, now()
        if summary:
            self.summary = summary

    def scope(self) -> dict[str, dict[str, str]]:
        return {
            "variables": self.variables,
            "codepipeline": {"PipelineExecutionId": self.id},
            **self.namespaces,
        }

    def _common(self) -> dict[str, Any]:
        out = {
            "pipelineExecutionId": self.id,
            "status": self.status,
            "trigger": self.trigger,
            "executionMode": self.mode,
            "executionType": "STANDARD",
        }
        return out | ({"statusSummary": self.summary} if self.summary else {})

    def describe(self) -> dict[str, Any]:
        """PipelineExecution, for GetPipelineExecution."""
        return {
            "pipelineName": self.name,
            "pipelineVersion": self.pipeline.get("version", 1),
            **self._common(),
            "artifactRevisions": [],
            "variables": [{"name": k, "resolvedValue": v} for k, v in self.variables.items()],
        }

    def summary_shape(self) -> dict[str, Any]:
        """PipelineExecutionSummary, for ListPipelineExecutions."""
        return {**self._common(), "startTime": self.start, "lastUpdateTime": self.updated, "sourceRevisions": []}
