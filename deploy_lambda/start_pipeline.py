"""`handler(event, context)`: starts the model deploy CodePipeline for one approved version.

EventBridge can target a pipeline directly, but such a target only calls
StartPipelineExecution with the pipeline's name: the Target API has parameters for ECS,
Batch, SQS, SageMaker Pipelines and others, none for CodePipeline, so the approved package's
ARN cannot reach a V2 pipeline variable that way
(https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_Target.html). This function
calls StartPipelineExecution itself with `variables` = [ModelPackageArn]
(https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_StartPipelineExecution.html),
so every stage acts on the version that was approved, not on "the latest" when it runs.

The event's id is the request token: EventBridge's retries of one event start one execution.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

from deploy_lambda.events import Skip, group_package_event
from deploy_lambda.handler import _identity
from model_registry.aws import client
from model_registry.names import PIPELINE_PACKAGE_VARIABLE

log = logging.getLogger()
log.setLevel(os.environ.get("LOG_LEVEL", "INFO"))


def start(event: Any, pipeline: str, group: str, account: str, region: str) -> dict:
    try:
        approved = group_package_event(event, group, account, region)
        if approved.status != "Approved":
            raise Skip(f"{approved.arn} is {approved.status}: only an approval starts {pipeline}")
    except Skip as skip:
        log.info(json.dumps({"message": "event skipped", "reason": str(skip)}))
        return {"action": "skipped", "detail": str(skip)}
    resp = client("codepipeline", region).start_pipeline_execution(
        name=pipeline,
        variables=[{"name": PIPELINE_PACKAGE_VARIABLE, "value": approved.arn}],
        clientRequestToken=str(event["id"])[:128],
    )
    out = {"action": "started", "pipeline": pipeline, "execution": resp["pipelineExecutionId"], "package": approved.arn}
    log.info(json.dumps({"message": "done", **out}))
    return out


def handler(event: Any, context: Any) -> dict:
    account, region = _identity(context)
    return start(event, os.environ["PIPELINE_NAME"], os.environ["MODEL_PACKAGE_GROUP_NAME"], account, region)
