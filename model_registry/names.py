"""Names that cross a package boundary: what a deploy creates, the tag it puts on it, and
the events that start it.

Resource names derive from the endpoint, group and version: the same version always yields
the same names, so a repeated event finds what the first one made, and the audit can tell a
config the deploy made from one made by hand. Names stay within SageMaker's 63 characters: a
long endpoint/group pair is replaced by a short digest of itself.
"""

from __future__ import annotations

import hashlib

MAX = 63
# The one production variant a deploy creates; autoscaling, alarms and invocations name it.
VARIANT = "AllTraffic"
# The package's additional inference specification: serving/'s image (the compiled predictor).
# The primary specification, the stock SageMaker XGBoost image, has no name in the API.
FAST_SPECIFICATION = "rtb-mlops-fast"
# How tables, charts and the audit name the primary specification.
PRIMARY_LABEL = "stock-xgboost"


def specification_label(name: str) -> str:
    """An inference specification for people: its name, or PRIMARY_LABEL for the primary one."""
    return name or PRIMARY_LABEL


# On each Model, EndpointConfig and Endpoint the deploy makes: the package it serves.
TAG_PACKAGE = "rtb-mlops:model-package-arn"
# EventBridge `source` and `detail-type` of the events the deploy Lambda acts on (and the
# emulator emits), as AWS documents them.
EVENT_SOURCE = "aws.sagemaker"
PACKAGE_CHANGE = "SageMaker Model Package State Change"
ENDPOINT_CHANGE = "SageMaker Endpoint State Change"
# The CodePipeline path (pipelines/templates/cicd.yaml): the model deploy pipeline's V2 variable
# that carries the approved package's ARN through the execution, and the staging endpoint.
PIPELINE_PACKAGE_VARIABLE = "ModelPackageArn"
STAGING_SUFFIX = "-staging"


def staging_endpoint_name(endpoint: str) -> str:
    return f"{endpoint}{STAGING_SUFFIX}"


def deploy_pipeline_name(endpoint: str) -> str:
    """The model deploy CodePipeline of an endpoint (the template's `${EndpointName}-model-deploy`)."""
    return f"{endpoint}-model-deploy"


def resource_name(endpoint: str, group: str, version: int) -> str:
    """The Model and EndpointConfig of one package version (one name serves both)."""
    suffix = f"-v{version}"
    name = f"{endpoint}-{group}{suffix}"
    if len(name) <= MAX:
        return name
    digest = hashlib.sha256(f"{endpoint}\0{group}".encode()).hexdigest()[:8]
    head = endpoint[: MAX - len(suffix) - len(digest) - 1].rstrip("-")
    return f"{head}-{digest}{suffix}"


def alarm_names(endpoint: str) -> tuple[str, str, str]:
    """The blue/green rollback alarms: 5XX errors, 4XX error rate, model latency."""
    return f"{endpoint}-5xx-errors", f"{endpoint}-4xx-error-rate", f"{endpoint}-model-latency"


def scaling_policy_name(endpoint: str) -> str:
    return f"{endpoint}-invocations-per-instance"


def scaling_resource_id(endpoint: str, variant: str) -> str:
    return f"endpoint/{endpoint}/variant/{variant}"
