"""The recommendation a model package carries in `CustomerMetadataProperties`.

Written by the Recommend step, read by the deploy Lambda and the audit: the Lambda needs
nothing but the approval event and `DescribeModelPackage`.

The API allows only letters, digits, white space and `_.:/=+-@` in these values (the
`CustomerMetadataValue` pattern), so the container environment is stored as
`KEY=VALUE` pairs separated by spaces rather than as JSON, and free text is cleaned.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field, fields

from model_registry.errors import UserError

MAX_VALUE_LENGTH = 256
_ALLOWED_PUNCTUATION = set("_.:/=+-@")
# InferenceSpecificationName's pattern (API reference); "-" stores the primary specification,
# which has no name (a metadata value may not be empty, and "-" is no specification's name).
_SPECIFICATION_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")
PRIMARY_SPECIFICATION = "-"

# The keys other packages read one by one (the Recommendation's fields are the rest of the
# contract, and each of these names one of them; a test holds the two together).
RECOMMENDATION_JOB_NAME = "recommendation_job_name"
RECOMMENDATION_ID = "recommendation_id"
RECOMMENDED_INSTANCE_TYPE = "recommended_instance_type"
RECOMMENDED_INSTANCE_COUNT = "recommended_instance_count"
INFERENCE_SPECIFICATION_NAME = "inference_specification_name"
# Written by others than the Recommend step: the gate, and registration.
GATE_DECISION = "gate_decision"
ARTIFACT_SHA256 = "model_artifact_sha256"
# Registration: the golden-requests object (model_registry.golden) and the sha256 of its bytes.
GOLDEN_OUTPUTS_URI = "golden_outputs_uri"
GOLDEN_OUTPUTS_SHA256 = "golden_outputs_sha256"
PASSED = "passed"


class InvalidMetadata(UserError):
    """A metadata value breaks the contract (it would be refused, or it does not parse)."""


class MissingRecommendation(UserError, KeyError):
    """A package lacks a key the deploy needs; nothing may be deployed from it.

    A KeyError too, as it was before there was a UserError: callers may catch either."""

    def __init__(self, arn: str, keys: list[str]):
        super().__init__(f"{arn}: missing recommendation keys in CustomerMetadataProperties: {', '.join(keys)}")
        self.keys = keys

    def __str__(self) -> str:
        return self.args[0]


def metadata_text(text: str) -> str:
    """`text` made acceptable as a CustomerMetadataValue: disallowed characters become spaces."""
    cleaned = "".join(ch if unicodedata.category(ch)[0] in "LNZ" or ch in _ALLOWED_PUNCTUATION else " " for ch in text)
    return " ".join(cleaned.split())[:MAX_VALUE_LENGTH] or "-"


def encode_environment(env: dict[str, str]) -> str:
    for key, value in env.items():
        if metadata_text(f"{key}={value}") != f"{key}={value}" or " " in value:
            raise InvalidMetadata(f"environment {key}={value!r} cannot be stored in CustomerMetadataProperties")
    return " ".join(f"{k}={v}" for k, v in sorted(env.items())) or "-"


def decode_environment(text: str) -> dict[str, str]:
    if text == "-":
        return {}
    pairs = [item.partition("=") for item in text.split()]
    if any(not sep or not key for key, sep, _ in pairs):
        raise InvalidMetadata(f"environment {text!r} is not KEY=VALUE pairs")
    return {key: value for key, _, value in pairs}


@dataclass(frozen=True)
class Recommendation:
    recommendation_job_name: str
    recommendation_id: str
    recommended_instance_type: str
    recommended_instance_count: int
    max_invocations_per_minute: int
    model_latency_ms: float
    cost_per_inference: float
    cost_per_hour: float
    target_invocations_per_instance: int
    min_instance_count: int
    max_instance_count: int
    environment: dict[str, str] = field(default_factory=dict)
    # The package's inference specification to serve ("": the primary one).
    inference_specification_name: str = ""

    def __post_init__(self) -> None:
        if self.inference_specification_name and not _SPECIFICATION_NAME.fullmatch(self.inference_specification_name):
            raise InvalidMetadata(
                f"{INFERENCE_SPECIFICATION_NAME} must match {_SPECIFICATION_NAME.pattern} or be"
                f" {PRIMARY_SPECIFICATION!r} (the primary specification), got {self.inference_specification_name!r}"
            )
        for name in ("recommended_instance_count", "max_invocations_per_minute", "target_invocations_per_instance"):
            if getattr(self, name) < 1:
                raise InvalidMetadata(f"{name} must be at least 1, got {getattr(self, name)}")
        for name in ("model_latency_ms", "cost_per_inference", "cost_per_hour"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise InvalidMetadata(f"{name} must be a finite non-negative number, got {value}")
        if not 1 <= self.min_instance_count <= self.max_instance_count:
            raise InvalidMetadata(
                "instance bounds must satisfy 1 <= min <= max,"
                f" got {self.min_instance_count}..{self.max_instance_count}"
            )

    def to_properties(self) -> dict[str, str]:
        props = {f.name: str(getattr(self, f.name)) for f in fields(self) if f.name != "environment"}
        props["environment"] = encode_environment(self.environment)
        props[INFERENCE_SPECIFICATION_NAME] = self.inference_specification_name or PRIMARY_SPECIFICATION
        return props

    @classmethod
    def from_properties(cls, arn: str, props: dict[str, str]) -> Recommendation:
        names = [f.name for f in fields(cls)]
        missing = [n for n in names if not props.get(n)]
        if missing:
            raise MissingRecommendation(arn, missing)
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = props[f.name]
            if f.name == INFERENCE_SPECIFICATION_NAME:
                values[f.name] = "" if raw == PRIMARY_SPECIFICATION else raw
                continue
            try:
                values[f.name] = _parse(f.type, raw)
            except ValueError as exc:
                raise InvalidMetadata(f"{arn}: CustomerMetadataProperties[{f.name!r}] = {raw!r}: {exc}") from None
        try:
            return cls(**values)
        except ValueError as exc:
            raise InvalidMetadata(f"{arn}: recommendation in CustomerMetadataProperties: {exc}") from None


def _parse(type_name: str, raw: str) -> object:
    if type_name == "int":
        return int(raw)
    if type_name == "float":
        return float(raw)
    if type_name == "dict[str, str]":
        return decode_environment(raw)
    return raw
