"""The Model and EndpointConfig of one package version: made once, found again after.

The Model is created and confirmed before the EndpointConfig that names it, so a deploy
that stops midway never leaves a config pointing at a model that does not exist; the next
attempt finds what exists and makes the rest.
"""

from __future__ import annotations

import re

from botocore.client import BaseClient
from botocore.exceptions import ClientError

from deploy_lambda.settings import Settings
from model_registry.contract import Recommendation
from model_registry.endpoints import package_of_model, specification_of_model
from model_registry.names import TAG_PACKAGE, VARIANT

_VERSION = re.compile(r":model-package/[^/]+/(\d+)$")


class Conflict(RuntimeError):
    """A resource with our deterministic name exists but is not what we would have made."""


def _missing(exc: ClientError) -> bool:
    msg = exc.response["Error"].get("Message", "")
    return exc.response["Error"]["Code"] in ("ValidationException", "ResourceNotFound") and (
        "Could not find" in msg or "does not exist" in msg or "not found" in msg.lower()
    )


def lost_race(exc: ClientError) -> bool:
    """Another invocation created or started changing it first (without reserved concurrency,
    two deliveries may run at once): SageMaker's "Cannot create already existing ..." and
    "Cannot update in-progress endpoint"."""
    msg = exc.response["Error"].get("Message", "")
    return exc.response["Error"]["Code"] == "ValidationException" and (
        "already existing" in msg or "in-progress" in msg
    )


def _or_none(describe, **kwargs) -> dict | None:
    """A Describe* response, or None when the resource does not exist."""
    try:
        return describe(**kwargs)
    except ClientError as exc:
        if _missing(exc):
            return None
        raise


def describe_model(sm: BaseClient, name: str) -> dict | None:
    return _or_none(sm.describe_model, ModelName=name)


def describe_endpoint_config(sm: BaseClient, name: str) -> dict | None:
    return _or_none(sm.describe_endpoint_config, EndpointConfigName=name)


def describe_endpoint(sm: BaseClient, name: str) -> dict | None:
    return _or_none(sm.describe_endpoint, EndpointName=name)


def version_of(package_arn: str | None) -> int | None:
    match = _VERSION.search(package_arn or "")
    return int(match.group(1)) if match else None


def ensure_model(sm: BaseClient, name: str, package_arn: str, rec: Recommendation, settings: Settings) -> bool:
    """True when created."""
    existing = describe_model(sm, name)
    if existing is not None:
        if package_of_model(existing) != package_arn:
            raise Conflict(f"model {name} exists but serves {package_of_model(existing)}, not {package_arn}")
        serving = specification_of_model(existing)
        if serving != rec.inference_specification_name:
            raise Conflict(
                f"model {name} exists but serves inference specification {serving or '(primary)'!r},"
                f" not {rec.inference_specification_name or '(primary)'!r}"
            )
        return False
    # ContainerDefinition.InferenceSpecificationName picks the package's additional specification
    # (API reference, CreateModel); without it the model serves the primary one.
    container = {"ModelPackageName": package_arn, "Environment": rec.environment}
    if rec.inference_specification_name:
        container["InferenceSpecificationName"] = rec.inference_specification_name
    try:
        sm.create_model(
            ModelName=name,
            ExecutionRoleArn=settings.execution_role_arn,
            PrimaryContainer=container,
            Tags=[{"Key": TAG_PACKAGE, "Value": package_arn}],
        )
    except ClientError as exc:
        if not lost_race(exc):
            raise
        return ensure_model(sm, name, package_arn, rec, settings)
    if describe_model(sm, name) is None:
        raise RuntimeError(f"model {name} was created but cannot be described; not creating its endpoint config")
    return True


def ensure_endpoint_config(
    sm: BaseClient, name: str, package_arn: str, rec: Recommendation, settings: Settings
) -> bool:
    existing = describe_endpoint_config(sm, name)
    if existing is not None:
        models = [v.get("ModelName") for v in existing.get("ProductionVariants", [])]
        if models != [name]:
            raise Conflict(f"endpoint config {name} exists but serves models {models}, not [{name}]")
        return False
    kwargs = {
        "EndpointConfigName": name,
        "ProductionVariants": [
            {
                "VariantName": VARIANT,
                "ModelName": name,
                "InstanceType": rec.recommended_instance_type,
                "InitialInstanceCount": rec.recommended_instance_count,
                "InitialVariantWeight": 1.0,
            }
        ],
        "Tags": [{"Key": TAG_PACKAGE, "Value": package_arn}],
    }
    if settings.kms_key_id:
        kwargs["KmsKeyId"] = settings.kms_key_id
    if settings.data_capture_percent:
        kwargs["DataCaptureConfig"] = {
            "EnableCapture": True,
            "InitialSamplingPercentage": settings.data_capture_percent,
            "DestinationS3Uri": settings.data_capture_s3_uri,
            "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        }
    try:
        sm.create_endpoint_config(**kwargs)
    except ClientError as exc:
        if not lost_race(exc):
            raise
        return ensure_endpoint_config(sm, name, package_arn, rec, settings)
    return True


def serving_package(sm: BaseClient, config_name: str | None) -> tuple[str | None, dict | None]:
    """(model package ARN, endpoint config) behind an endpoint config name."""
    config = describe_endpoint_config(sm, config_name) if config_name else None
    variants = (config or {}).get("ProductionVariants") or [{}]
    model = describe_model(sm, variants[0].get("ModelName", "")) if variants[0].get("ModelName") else None
    return package_of_model(model), config
