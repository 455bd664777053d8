"""The CodePipeline operations the emulator answers; moto keeps the declarations (GetPipeline,
ListPipelines, DeletePipeline, tags). CreatePipeline and UpdatePipeline are checked here first
for the structure rules CodePipeline enforces, then stored by moto. Shapes as in the CodePipeline
API Reference."""

from __future__ import annotations

from typing import Any

from moto.codepipeline.models import codepipeline_backends

from emulator.codepipeline.engine import PipelineRuns
from emulator.codepipeline.models import Execution
from emulator.iam import principals
from emulator.protocol import ApiError, operation

TARGET = "CodePipeline_20150709"


def _structure(message: str) -> ApiError:
    return ApiError("InvalidStructureException", message)


def check_declaration(pipeline: dict[str, Any]) -> None:
    """What CodePipeline refuses in a declaration (User Guide, "CodePipeline pipeline structure
    reference"): fewer than two stages; a first stage that is not all source actions, or a
    source action elsewhere; a name twice; an input artifact no earlier action outputs; V2-only
    features (pipeline variables, QUEUED or PARALLEL) on a V1 pipeline."""
    stages = pipeline.get("stages", [])
    if len(stages) < 2:
        raise _structure(
            f"Pipeline has only {len(stages)} stage(s). There should be a minimum of 2 stages in a pipeline"
        )
    v2 = pipeline.get("pipelineType", "V1") == "V2"
    if not v2 and (pipeline.get("variables") or pipeline.get("executionMode", "SUPERSEDED") != "SUPERSEDED"):
        raise ApiError("ValidationException", "Pipeline variables and QUEUED or PARALLEL mode need pipelineType V2")
    produced: set[str] = set()
    names = [s["name"] for s in stages]
    if len(set(names)) != len(names):
        raise ApiError("InvalidStageDeclarationException", "Stage names must be unique within a pipeline")
    for index, stage in enumerate(stages):
        actions = stage.get("actions", [])
        if len({a["name"] for a in actions}) != len(actions):
            raise ApiError("InvalidActionDeclarationException", f"Action names must be unique in stage {stage['name']}")
        for action in actions:
            is_source = action["actionTypeId"]["category"] == "Source"
            if is_source != (index == 0):
                raise _structure(
                    "The first stage must contain only source actions, and source actions are allowed only"
                    f" in the first stage (stage {stage['name']}, action {action['name']})"
                )
            missing = [a["name"] for a in action.get("inputArtifacts", []) if a["name"] not in produced]
            if missing:
                raise _structure(
                    f"Input artifact(s) {', '.join(missing)} of action {action['name']} are not the output of"
                    " any preceding action"
                )
        produced |= {o["name"] for a in actions for o in a.get("outputArtifacts", [])}


class CodePipelineApi:
    def __init__(self, runs: PipelineRuns):
        self.runs = runs

    @property
    def backend(self):
        return codepipeline_backends[self.runs.ctx.account][self.runs.ctx.region]

    @operation(f"{TARGET}.CreatePipeline")
    def create_pipeline(self, params: dict[str, Any]) -> dict[str, Any]:
        check_declaration(params["pipeline"])
        pipeline, tags = self.backend.create_pipeline(params["pipeline"], params.get("tags"))
        self.runs.created(pipeline["name"])
        return {"pipeline": pipeline, "tags": tags}

    @operation(f"{TARGET}.UpdatePipeline")
    def update_pipeline(self, params: dict[str, Any]) -> dict[str, Any]:
        check_declaration(params["pipeline"])
        return {"pipeline": self.backend.update_pipeline(params["pipeline"])}

    @operation(f"{TARGET}.StartPipelineExecution")
    def start_pipeline_execution(self, params: dict[str, Any]) -> dict[str, Any]:
        trigger = {"triggerType": "StartPipelineExecution", "triggerDetail": _caller()}
        execution = self.runs.start(
            params["name"], params.get("variables", []), trigger, params.get("clientRequestToken")
        )
        return {"pipelineExecutionId": execution.id}

    @operation(f"{TARGET}.GetPipelineExecution")
    def get_pipeline_execution(self, params: dict[str, Any]) -> dict[str, Any]:
        self.runs.pipeline(params["pipelineName"])
        return {
            "pipelineExecution": self.runs.execution(params["pipelineName"], params["pipelineExecutionId"]).describe()
        }

    @operation(f"{TARGET}.ListPipelineExecutions")
    def list_pipeline_executions(self, params: dict[str, Any]) -> dict[str, Any]:
        self.runs.pipeline(params["pipelineName"])
        found = [e for e in self.runs.executions.values() if e.name == params["pipelineName"]]
        found.sort(key=lambda e: e.start, reverse=True)
        return {"pipelineExecutionSummaries": [e.summary_shape() for e in found[: params.get("maxResults", 100)]]}

    @operation(f"{TARGET}.ListActionExecutions")
    def list_action_executions(self, params: dict[str, Any]) -> dict[str, Any]:
        self.runs.pipeline(params["pipelineName"])
        wanted = (params.get("filter") or {}).get("pipelineExecutionId")
        found = [
            run
            for e in self.runs.executions.values()
            if e.name == params["pipelineName"] and wanted in (None, e.id)
            for run in e.actions
        ]
        found.sort(key=lambda r: r.start, reverse=True)
        return {"actionExecutionDetails": [r.detail() for r in found[: params.get("maxResults", 100)]]}

    @operation(f"{TARGET}.GetPipelineState")
    def get_pipeline_state(self, params: dict[str, Any]) -> dict[str, Any]:
        name = params["name"]
        declaration = self.runs.pipeline(name)
        stored = self.backend.pipelines[name]
        return {
            "pipelineName": name,
            "pipelineVersion": declaration.get("version", 1),
            "stageStates": [self._stage_state(name, stage) for stage in declaration["stages"]],
            "created": stored._created,
            "updated": stored._updated,
        }

    def _stage_state(self, pipeline: str, stage: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"stageName": stage["name"], "inboundTransitionState": {"enabled": True}}
        actions = []
        for action in stage["actions"]:
            state: dict[str, Any] = {"actionName": action["name"]}
            run = self.runs.action_latest.get((pipeline, stage["name"], action["name"]))
            if run is not None:
                state["latestExecution"] = run.latest()
            actions.append(state)
        out["actionStates"] = actions
        latest = self.runs.stage_latest.get((pipeline, stage["name"]))
        if latest is not None:
            out["latestExecution"] = {"pipelineExecutionId": latest.id, "status": _stage_status(latest, stage)}
        inbound = [
            e
            for e in self.runs.executions.values()
            if e.name == pipeline and e.waiting and e.stage == stage["name"] and e.status == "InProgress"
        ]
        inbound.sort(key=lambda e: e.start)
        if inbound:
            shapes = [{"pipelineExecutionId": e.id, "status": "InProgress", "type": "STANDARD"} for e in inbound]
            out["inboundExecution"] = shapes[-1]
            out["inboundExecutions"] = shapes
        return out

    @operation(f"{TARGET}.PutApprovalResult")
    def put_approval_result(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.runs.put_approval(params)

    @operation(f"{TARGET}.StopPipelineExecution")
    def stop_pipeline_execution(self, params: dict[str, Any]) -> dict[str, Any]:
        self.runs.pipeline(params["pipelineName"])
        return self.runs.stop(params)


def _stage_status(e: Execution, stage: dict[str, Any]) -> str:
    runs = [r for r in e.actions if r.stage == stage["name"]]
    statuses = {r.status for r in runs}
    if "InProgress" in statuses:
        return "Stopping" if e.status == "Stopping" else "InProgress"
    if "Failed" in statuses or "Abandoned" in statuses:
        return "Stopped" if e.status == "Stopped" else "Failed"
    if len(runs) == len(stage["actions"]):
        return "Succeeded"
    return "Stopped" if e.status in ("Stopped", "Stopping") else "InProgress"


def _caller() -> str:
    caller = principals.current()
    return caller.arn if caller else ""
