"""Which service model a JSON-protocol request belongs to, and the check before dispatch."""

from __future__ import annotations

import functools
import json

import botocore.session
from botocore.model import ServiceModel

from emulator.protocol import ApiError
from emulator.validation.members import Findings, WrongType, check

# The JSON-protocol services the flow and the emulator's own parts call. Query and REST
# protocols (S3, IAM, STS, CloudFormation, Lambda, the SageMaker runtime) are not validated.
SERVICES = (
    "sagemaker",
    "application-autoscaling",
    "events",
    "logs",
    "sqs",
    "cloudwatch",
    "service-quotas",
    "codepipeline",
    "codebuild",
)


@functools.lru_cache(maxsize=1)
def _models() -> dict[str, ServiceModel]:
    """Service models by their X-Amz-Target prefix (e.g. `SageMaker`, `AnyScaleFrontendService`)."""
    session = botocore.session.get_session()
    out = {}
    for name in SERVICES:
        model = session.get_service_model(name)
        if "json" in (model.metadata.get("protocols") or [model.protocol]):
            out[model.metadata["targetPrefix"]] = model
    return out


class RequestValidator:
    """Checks a request against its operation's input shape; raises ApiError as AWS answers."""

    def check(self, target: str | None, body: bytes) -> None:
        prefix, _, operation = (target or "").rpartition(".")
        model = _models().get(prefix)
        if model is None or operation not in model.operation_names:
            return
        shape = model.operation_model(operation).input_shape
        if shape is None:
            return
        try:
            params = json.loads(body or b"{}")
        except ValueError:
            raise ApiError("SerializationException", "Request body is not valid JSON.") from None
        findings = Findings()
        try:
            check(shape, params, "", findings)
        except WrongType as exc:
            raise ApiError("SerializationException", f"Value of the wrong type: {exc}") from None
        if findings.messages:
            count = len(findings.messages)
            head = f"{count} validation error{'s' if count > 1 else ''} detected: "
            raise ApiError("ValidationException", head + "; ".join(findings.messages))
