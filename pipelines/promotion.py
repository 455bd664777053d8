"""The person's side of the model deploy pipeline's manual approval: find the approval an
execution waits at (GetPipelineState), and answer it (PutApprovalResult) for that execution
and the package it carries, never for whichever execution happens to be waiting.

CodePipeline lets one execution at a time into a stage; the stage's `latestExecution` names it,
and its approval action's `latestExecution.token` is what PutApprovalResult needs
(https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_GetPipelineState.html,
https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_PutApprovalResult.html).
"""

from __future__ import annotations

from dataclasses import dataclass

from botocore.client import BaseClient

from model_registry.errors import UserError
from model_registry.names import PIPELINE_PACKAGE_VARIABLE


class NotAwaitingApproval(UserError):
    """The execution is not waiting for a person, or carries another package than the one named."""


@dataclass(frozen=True)
class PendingApproval:
    pipeline: str
    execution_id: str
    stage: str
    action: str
    token: str
    package_arn: str
    message: str


def package_of(cp: BaseClient, pipeline: str, execution_id: str) -> str:
    """The approved package ARN the execution carries (its V2 variable), once it is in progress."""
    execution = cp.get_pipeline_execution(pipelineName=pipeline, pipelineExecutionId=execution_id)["pipelineExecution"]
    if execution["status"] != "InProgress":
        raise NotAwaitingApproval(f"{pipeline} execution {execution_id} is {execution['status']}, not InProgress")
    values = {v["name"]: v["resolvedValue"] for v in execution.get("variables", [])}
    arn = values.get(PIPELINE_PACKAGE_VARIABLE, "")
    if not arn.startswith("arn:"):
        carried = f"{PIPELINE_PACKAGE_VARIABLE}={arn or 'unset'}"
        raise NotAwaitingApproval(f"{pipeline} execution {execution_id} carries no model package ({carried})")
    return arn


def pending(cp: BaseClient, pipeline: str, execution_id: str, expected_package: str | None = None) -> PendingApproval:
    arn = package_of(cp, pipeline, execution_id)
    if expected_package and arn != expected_package:
        raise NotAwaitingApproval(f"{pipeline} execution {execution_id} carries {arn}, not {expected_package}")
    holders = []
    for stage in cp.get_pipeline_state(name=pipeline)["stageStates"]:
        holder = (stage.get("latestExecution") or {}).get("pipelineExecutionId")
        for action in stage.get("actionStates", []):
            latest = action.get("latestExecution") or {}
            if latest.get("status") == "InProgress" and latest.get("token"):
                if holder == execution_id:
                    return PendingApproval(
                        pipeline, execution_id, stage["stageName"], action["actionName"], latest["token"], arn,
                        latest.get("summary", ""),
                    )  # fmt: skip
                holders.append(f"{stage['stageName']}.{action['actionName']} waits for execution {holder}")
    waiting = "; ".join(holders) or "no approval is waiting"
    raise NotAwaitingApproval(f"{pipeline} execution {execution_id} is not waiting for approval ({waiting})")


def answer(cp: BaseClient, approval: PendingApproval, approve: bool, summary: str) -> None:
    cp.put_approval_result(
        pipelineName=approval.pipeline,
        stageName=approval.stage,
        actionName=approval.action,
        result={"summary": summary[:512], "status": "Approved" if approve else "Rejected"},
        token=approval.token,
    )
