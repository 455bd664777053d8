"""Permissions AWS services check with the caller's own policies before they act for it.

Application Auto Scaling, registering a SageMaker variant and putting a target-tracking
policy, checks the caller for the SageMaker and CloudWatch calls it will make, and creates its
service-linked role the first time (Application Auto Scaling User Guide, "Permissions validation
for Application Auto Scaling API calls on target resources"; SageMaker Developer Guide, "Auto
scaling prerequisites"). SageMaker, given a KMS key for an endpoint's volumes, creates a grant
on it as the caller (SageMaker Developer Guide, "Protect Data at Rest Using Encryption").
"""

from __future__ import annotations

import json
import uuid

from moto.iam.models import iam_backends
from moto.sagemaker.models import sagemaker_backends

from emulator.iam import principals
from emulator.iam.policy import Check, Effect, denial_message
from emulator.iam.requests import Request

SLR_SERVICE = "sagemaker.application-autoscaling.amazonaws.com"
SLR_NAME = "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint"


def _slr_arn(account: str) -> str:
    return f"arn:aws:iam::{account}:role/aws-service-role/{SLR_SERVICE}/{SLR_NAME}"


def _endpoint(resource_id: str) -> str | None:
    parts = resource_id.split("/")  # endpoint/NAME/variant/VARIANT
    return parts[1] if len(parts) == 4 and parts[0] == "endpoint" else None


def _sagemaker(account: str, region: str):
    return sagemaker_backends[account][region]


def _target_tracking_alarms(request: Request, account: str) -> list[str]:
    # The alarms it creates are named TargetTracking-<ResourceId>-AlarmHigh|Low-<uuid>.
    base = f"arn:aws:cloudwatch:{request.region}:{account}:alarm:TargetTracking-{request.params['ResourceId']}"
    return [f"{base}-Alarm{side}-{uuid.uuid4()}" for side in ("High", "Low")]


def _register(request: Request, account: str, context: dict) -> list[Check]:
    name = _endpoint(request.params.get("ResourceId", ""))
    if name is None:
        return []
    endpoint = f"arn:aws:sagemaker:{request.region}:{account}:endpoint/{name.lower()}"
    checks = [
        Check("sagemaker:DescribeEndpoint", endpoint, context),
        Check("sagemaker:UpdateEndpointWeightsAndCapacities", endpoint, context),
        Check("cloudwatch:DescribeAlarms", "*", context),
    ]
    found = _sagemaker(account, request.region).endpoints.get(name)
    if found is not None:
        config = f"arn:aws:sagemaker:{request.region}:{account}:endpoint-config/{found.endpoint_config_name.lower()}"
        checks.append(Check("sagemaker:DescribeEndpointConfig", config, context))
    if not service_linked_role_exists(account):
        checks.append(
            Check("iam:CreateServiceLinkedRole", _slr_arn(account), {**context, "iam:AWSServiceName": [SLR_SERVICE]})
        )
    return checks


def _put_policy(request: Request, account: str, context: dict) -> list[Check]:
    if (
        _endpoint(request.params.get("ResourceId", "")) is None
        or request.params.get("PolicyType") != "TargetTrackingScaling"
    ):
        return []
    alarms = _target_tracking_alarms(request, account)
    return [Check("cloudwatch:DescribeAlarms", "*", context)] + [
        Check(action, alarm, context)
        for alarm in alarms
        for action in ("cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms")
    ]


def _delete_policy(request: Request, account: str, context: dict) -> list[Check]:
    if _endpoint(request.params.get("ResourceId", "")) is None:
        return []
    return [Check("cloudwatch:DeleteAlarms", alarm, context) for alarm in _target_tracking_alarms(request, account)]


def _kms_grant(request: Request, account: str, context: dict) -> list[Check]:
    key = request.params.get("KmsKeyId")
    if not isinstance(key, str) or not key:
        return []
    arn = key if key.startswith("arn:") else f"arn:aws:kms:{request.region}:{account}:key/{key}"
    via = {
        **context,
        "kms:ViaService": [f"sagemaker.{request.region}.amazonaws.com"],
        "kms:GrantIsForAWSResource": ["true"],
    }
    return [Check("kms:CreateGrant", arn, via), Check("kms:DescribeKey", arn, via)]


_CHECKS = {
    "application-autoscaling:RegisterScalableTarget": _register,
    "application-autoscaling:PutScalingPolicy": _put_policy,
    "application-autoscaling:DeleteScalingPolicy": _delete_policy,
    "sagemaker:CreateEndpointConfig": _kms_grant,
}


def checks(request: Request, account: str, context: dict) -> list[Check]:
    found = _CHECKS.get(request.action)
    return found(request, account, context) if found else []


def service_linked_role_exists(account: str) -> bool:
    return any(r.name == SLR_NAME for r in iam_backends[account]["aws"].roles.values())


def after_success(request: Request, account: str) -> None:
    """What the service does once the request is allowed: the service-linked role, the first time."""
    if request.action == "application-autoscaling:RegisterScalableTarget" and not service_linked_role_exists(account):
        trust = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": SLR_SERVICE}, "Action": "sts:AssumeRole"}],
        }
        iam_backends[account]["aws"].create_role(
            SLR_NAME, json.dumps(trust), f"/aws-service-role/{SLR_SERVICE}/", None, "", [], None, SLR_SERVICE
        )


def s3_object_arn(uri: str) -> str:
    return "arn:aws:s3:::" + uri.removeprefix("s3://")


def ecr_repository_arn(image: str) -> str:
    """arn:aws:ecr:REGION:ACCOUNT:repository/NAME for ACCOUNT.dkr.ecr.REGION.amazonaws.com/NAME:TAG."""
    registry, _, path = image.partition("/")
    account, _, rest = registry.partition(".dkr.ecr.")
    region = rest.split(".")[0]
    return f"arn:aws:ecr:{region}:{account}:repository/{path.split('@')[0].split(':')[0]}"


def refused_to_role(role_arn: str, session: str, wanted: list[Check], account: str, region: str) -> str | None:
    """What SageMaker, acting as `role_arn` (a job's role), would be refused; None if nothing.

    A job's containers pull their image and read their model data and payloads with the role
    passed to the job (SageMaker Developer Guide, "How to use SageMaker AI execution roles")."""
    try:
        creds = principals.assume(role_arn, "sagemaker.amazonaws.com", session[:64], account, region)
    except principals.NotTrusted as exc:
        return str(exc)
    return refused_to(principals.resolve(creds.access_key_id, creds.session_token, account), wanted)


def refused_to(principal: principals.Principal, wanted: list[Check]) -> str | None:
    """The AccessDenied message for the first of `wanted` the principal's policies do not allow."""
    for check in wanted:
        effect = principals.allows(principal, check)
        if effect is not Effect.ALLOW:
            return denial_message(principal.arn, check, effect)
    return None
