"""`handler(event, context)`: the EventBridge target.

Acts on Model Package State Change events of the configured group (Approved: deploy;
Rejected: roll back if that version serves) and on the endpoint's own State Change to
InService (autoscaling as planned). Events for anything else are logged and skipped with
no write. Errors that a retry may cure, or that a person must see, are raised: Lambda
retries them and then hands the event to the dead-letter queue.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from botocore.exceptions import ClientError

from deploy_lambda.deploy import Deployer, EndpointBusy, NotDeployable, Outcome, note
from deploy_lambda.events import Skip, check_endpoint_event, package_event
from deploy_lambda.resources import Conflict
from deploy_lambda.settings import Settings
from model_registry.aws import client
from model_registry.contract import MissingRecommendation
from model_registry.names import ENDPOINT_CHANGE

logging.getLogger().setLevel(os.environ.get("LOG_LEVEL", "INFO"))


def _identity(context: Any) -> tuple[str, str]:
    """(account, region) of this function, from its own ARN."""
    arn = getattr(context, "invoked_function_arn", "") or ""
    parts = arn.split(":")
    if len(parts) >= 5 and parts[3] and parts[4]:
        return parts[4], parts[3]
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION", "")
    return client("sts", region).get_caller_identity()["Account"], region


def deployer(settings: Settings, region: str | None = None) -> Deployer:
    return Deployer(
        settings, client("sagemaker", region), client("application-autoscaling", region), client("cloudwatch", region)
    )


def dispatch(event: Any, settings: Settings, account: str, region: str) -> dict:
    d = deployer(settings, region)
    try:
        if isinstance(event, dict) and event.get("detail-type") == ENDPOINT_CHANGE:
            check_endpoint_event(event, settings, account, region)
            outcome = d.on_in_service()
        else:
            evt = package_event(event, settings, account, region)
            if settings.deploy_path == "codepipeline":
                raise Skip(f"endpoint {settings.endpoint_name} is deployed by CodePipeline (DEPLOY_PATH=codepipeline)")
            outcome = d.deploy(evt.arn) if evt.status == "Approved" else d.on_rejected(evt.arn, evt.version)
    except Skip as skip:
        note(logging.INFO, "event skipped", reason=str(skip))
        # The same shape as every other outcome, so a caller reads one kind of answer.
        return Outcome("skipped", settings.endpoint_name, detail=str(skip)).to_dict()
    except EndpointBusy as exc:
        note(logging.WARNING, "endpoint busy; raising for retry", reason=str(exc))
        raise
    except (MissingRecommendation, NotDeployable, Conflict, ValueError) as exc:
        note(logging.ERROR, "not deployed", reason=str(exc))
        raise
    except ClientError as exc:
        note(logging.ERROR, "AWS call failed", code=exc.response["Error"]["Code"], reason=str(exc))
        raise
    note(logging.INFO, "done", **outcome.to_dict())
    return outcome.to_dict()


def handler(event: Any, context: Any) -> dict:
    settings = Settings.from_env()
    account, region = _identity(context)
    return dispatch(event, settings, account, region)
