"""Pipeline executions that run the stored definition, step by step.

Steps run when what they reference (and what they `DependsOn`) has succeeded; a Condition
step then admits one of its branches. Statuses are SageMaker's: the execution `Executing`
then `Succeeded`, `Failed` (a failed step, or a Fail step's message) or `Stopped`; each
step `Executing` then `Succeeded`/`Failed`/`Stopped` with its metadata and failure reason.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any

from moto.core.utils import utcnow
from moto.sagemaker.models import sagemaker_backends

from emulator import pipeline_steps
from emulator.context import Context
from emulator.lambdas import Lambdas
from emulator.pipeline_expr import ExpressionError, Scope
from emulator.protocol import ApiError, operation, validation

log = logging.getLogger("rtb_mlops.emulator")
_STEP_REF = "Steps."


@dataclass
class StepRecord:
    name: str
    type: str
    status: str = "Executing"
    start: Any = field(default_factory=utcnow)
    end: Any = None
    failure_reason: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        out = {
            "StepName": self.name,
            "StepDisplayName": self.name,
            "StartTime": self.start,
            "StepStatus": self.status,
            "Metadata": self.metadata,
            "AttemptCount": 1,
        }
        if self.end:
            out["EndTime"] = self.end
        if self.failure_reason:
            out["FailureReason"] = self.failure_reason
        return out


@dataclass
class Execution:
    pipeline: str
    pipeline_arn: str
    arn: str
    display_name: str
    parameters: dict[str, Any]
    definition: dict[str, Any]
    role_arn: str
    status: str = "Executing"
    failure_reason: str = ""
    created: Any = field(default_factory=utcnow)
    modified: Any = field(default_factory=utcnow)
    steps: list[StepRecord] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    current: pipeline_steps.StepProcess | None = None

    def describe(self) -> dict[str, Any]:
        out = {
            "PipelineArn": self.pipeline_arn,
            "PipelineExecutionArn": self.arn,
            "PipelineExecutionDisplayName": self.display_name,
            "PipelineExecutionStatus": self.status,
            "CreationTime": self.created,
            "LastModifiedTime": self.modified,
        }
        if self.failure_reason:
            out["FailureReason"] = self.failure_reason
        return out


def _all_steps(steps: list[dict]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for s in steps:
        out[s["Name"]] = s
        if s["Type"] == "Condition":
            out.update(_all_steps(s["Arguments"].get("IfSteps", []) + s["Arguments"].get("ElseSteps", [])))
    return out


def _references(value: Any) -> set[str]:
    if isinstance(value, dict):
        found = set().union(*(_references(v) for v in value.values())) if value else set()
        ref = value.get("Get")
        if isinstance(ref, str) and ref.startswith(_STEP_REF):
            found.add(ref[len(_STEP_REF) :].split(".", 1)[0])
        return found
    if isinstance(value, list):
        return set().union(*(_references(v) for v in value)) if value else set()
    return set()


def dependencies(step: dict) -> set[str]:
    args = step.get("Arguments", {})
    if step["Type"] == "Condition":  # branches are admitted by the condition, not dependencies
        args = {"Conditions": args.get("Conditions", [])}
    return _references(args) | set(step.get("DependsOn", [])) - {step["Name"]}


class PipelineEngine:
    def __init__(self, ctx: Context, lambdas: Lambdas):
        self.ctx, self.lambdas = ctx, lambdas
        self.executions: dict[str, Execution] = {}
        self.tokens: dict[str, str] = {}

    @property
    def backend(self):
        return sagemaker_backends[self.ctx.account][self.ctx.region]

    # --- API ---------------------------------------------------------------------------------
    @operation("SageMaker.StartPipelineExecution")
    def start(self, params: dict[str, Any]) -> dict[str, Any]:
        token = params.get("ClientRequestToken")
        if token and token in self.tokens:
            return {"PipelineExecutionArn": self.tokens[token]}
        name = params["PipelineName"]
        pipeline = self.backend.pipelines.get(name)
        if pipeline is None:
            raise ApiError("ResourceNotFound", f"Pipeline '{pipeline_arn(self.ctx, name)}' does not exist.")
        definition = json.loads(pipeline.pipeline_definition)
        values = {p["Name"]: p.get("DefaultValue") for p in definition.get("Parameters", [])}
        kinds = {p["Name"]: p.get("Type", "String") for p in definition.get("Parameters", [])}
        for p in params.get("PipelineParameters", []):
            if p["Name"] not in values:
                raise validation(f"Parameter '{p['Name']}' is not defined in pipeline {name}.")
            values[p["Name"]] = _typed(p["Value"], kinds[p["Name"]])
        missing = [k for k, v in values.items() if v is None]
        if missing:
            raise validation(f"Pipeline parameters without a default need a value: {', '.join(missing)}")
        exec_id = secrets.token_hex(6)
        arn = f"{pipeline.arn}/execution/{exec_id}"
        execution = Execution(
            name,
            pipeline.arn,
            arn,
            params.get("PipelineExecutionDisplayName") or exec_id,
            values,
            definition,
            pipeline.role_arn,
        )
        self.executions[arn] = execution
        if token:
            self.tokens[token] = arn
        threading.Thread(target=self._run, args=(execution, exec_id), daemon=True).start()
        return {"PipelineExecutionArn": arn}

    def _execution(self, arn: str) -> Execution:
        if arn not in self.executions:
            raise ApiError("ResourceNotFound", f"Pipeline execution '{arn}' does not exist.")
        return self.executions[arn]

    @operation("SageMaker.DescribePipelineExecution")
    def describe(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._execution(params["PipelineExecutionArn"]).describe()

    @operation("SageMaker.ListPipelineExecutionSteps")
    def list_steps(self, params: dict[str, Any]) -> dict[str, Any]:
        steps = [s.summary() for s in self._execution(params["PipelineExecutionArn"]).steps]
        if params.get("SortOrder", "Descending") == "Descending":
            steps.reverse()
        return {"PipelineExecutionSteps": steps}

    @operation("SageMaker.ListPipelineExecutions")
    def list_executions(self, params: dict[str, Any]) -> dict[str, Any]:
        found = [e for e in self.executions.values() if e.pipeline == params["PipelineName"]]
        found.sort(key=lambda e: e.created, reverse=params.get("SortOrder", "Descending") == "Descending")
        return {
            "PipelineExecutionSummaries": [
                {
                    "PipelineExecutionArn": e.arn,
                    "StartTime": e.created,
                    "PipelineExecutionStatus": e.status,
                    "PipelineExecutionDisplayName": e.display_name,
                }
                for e in found
            ]
        }

    @operation("SageMaker.ListPipelineParametersForExecution")
    def list_parameters(self, params: dict[str, Any]) -> dict[str, Any]:
        e = self._execution(params["PipelineExecutionArn"])
        return {"PipelineParameters": [{"Name": k, "Value": str(v)} for k, v in e.parameters.items()]}

    @operation("SageMaker.StopPipelineExecution")
    def stop(self, params: dict[str, Any]) -> dict[str, Any]:
        e = self._execution(params["PipelineExecutionArn"])
        if e.status == "Executing":
            e.status, e.modified = "Stopping", utcnow()
            e.stop.set()
            if e.current is not None:
                e.current.stop()
        return {"PipelineExecutionArn": e.arn}

    def shutdown(self) -> None:
        for e in self.executions.values():
            e.stop.set()
            if e.current is not None:
                e.current.stop()

    # --- running ----------------------------------------------------------------------------
    def _run(self, e: Execution, exec_id: str) -> None:
        steps = _all_steps(e.definition.get("Steps", []))
        scope = Scope(
            parameters=e.parameters,
            execution={
                "PipelineExecutionArn": e.arn,
                "PipelineExecutionId": exec_id,
                "PipelineName": e.pipeline,
                "PipelineExecutionDisplayName": e.display_name,
                "StartDateTime": e.created.isoformat(),
            },
        )
        admitted = [s["Name"] for s in e.definition.get("Steps", [])]
        done: set[str] = set()
        failure = ""
        try:
            role = pipeline_steps.execution_role(self.ctx, e.role_arn, f"SageMaker-{exec_id}")
        except pipeline_steps.StepFailed as exc:
            admitted, failure = [], str(exc)
        while not failure:
            ready = [n for n in admitted if n not in done and dependencies(steps[n]) <= done]
            if not ready or e.stop.is_set():
                break
            for name in ready:
                result, failure = self._run_step(e, steps[name], scope, exec_id, role)
                done.add(name)
                if failure:
                    break
                admitted.extend(result.next_steps)
        pending = [n for n in admitted if n not in done]
        if e.stop.is_set():
            e.status = "Stopped"
        elif failure:
            e.status, e.failure_reason = "Failed", failure
        elif pending:
            e.status, e.failure_reason = "Failed", f"steps never became ready: {', '.join(pending)}"
        else:
            e.status = "Succeeded"
        e.modified = utcnow()
        log.info("pipeline execution %s %s%s", exec_id, e.status, f": {e.failure_reason}" if e.failure_reason else "")

    def _run_step(
        self, e: Execution, step: dict, scope: Scope, exec_id: str, role: pipeline_steps.Credentials
    ) -> tuple[pipeline_steps.StepResult, str]:
        record = StepRecord(step["Name"], step["Type"])
        e.steps.append(record)
        e.modified = utcnow()
        runner = pipeline_steps.RUNNERS.get(step["Type"])
        e.current = pipeline_steps.StepProcess()
        try:
            if runner is None:
                raise pipeline_steps.StepFailed(f"step type {step['Type']} is not supported by the emulator")
            job_name = f"pipelines-{exec_id}-{step['Name']}"[:63]
            result = runner(
                step, scope, ctx=self.ctx, lambdas=self.lambdas, job_name=job_name, runner=e.current, role=role
            )
        except (pipeline_steps.StepFailed, ExpressionError, ApiError) as exc:
            record.status = "Stopped" if e.stop.is_set() else "Failed"
            record.failure_reason = str(exc)
            record.end = utcnow()
            return pipeline_steps.StepResult({}), record.failure_reason
        except Exception as exc:
            log.exception("step %s crashed in the emulator", step["Name"])
            record.status, record.failure_reason, record.end = "Failed", f"{type(exc).__name__}: {exc}", utcnow()
            return pipeline_steps.StepResult({}), record.failure_reason
        finally:
            e.current = None
        record.metadata, record.end = result.metadata, utcnow()
        scope.steps[step["Name"]] = result.properties
        for name, doc in result.property_files.items():
            scope.property_files[(step["Name"], name)] = doc
        if result.fail_message:
            record.status, record.failure_reason = "Failed", result.fail_message
            return result, result.fail_message
        record.status = "Succeeded"
        return result, ""


def pipeline_arn(ctx: Context, name: str) -> str:
    return f"arn:aws:sagemaker:{ctx.region}:{ctx.account}:pipeline/{name.lower()}"


def _typed(value: str, kind: str) -> Any:
    try:
        if kind == "Integer":
            return int(value)
        if kind == "Float":
            return float(value)
        if kind == "Boolean":
            return value.lower() == "true"
    except ValueError:
        raise validation(f"value {value!r} is not a valid {kind}") from None
    return value
