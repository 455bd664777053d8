"""Loading and validating `config/pipeline.yaml`, with environment and CLI overrides.

Every error names where the bad value came from (file and line, environment variable or
flag), the key path, and what was expected, so a broken config fails before anything runs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from model_registry import deploy_bounds
from model_registry.errors import UserError
from model_registry.instance_types import realtime_instance_types
from model_registry.names import staging_endpoint_name
from pipelines import safe_yaml
from pipelines.aws_names import bucket_error, enum_values, pattern_error, s3_uri_error
from pipelines.ecr_image import ecr_image_error

ENV_PREFIX = "RTB_MLOPS__"
XGBOOST_CONTAINER_VERSIONS = ("1.7-1", "3.0-5", "3.2-0")


class ConfigError(UserError):
    """A configuration value that cannot be used; the message says where and why."""


def _check(error: str | None, value: str) -> str:
    if error:
        raise ValueError(f"expected {error}, got {value!r}")
    return value


class _Section(BaseModel):
    # strict: `true` is not the number 1 and 20.5 not the integer 20; no Infinity or NaN reaches
    # a definition's JSON. A YAML/JSON int still fills a float field.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class AwsSettings(_Section):
    # pydantic's `pattern` searches; anchored, it checks the whole value.
    region: str = Field(pattern=r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$")
    role_arn: str
    bucket: str
    prefix: str = Field(default="rtb-mlops", pattern=r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$")

    @field_validator("role_arn")
    @classmethod
    def _role(cls, v: str) -> str:
        return _check(pattern_error("sagemaker", "RoleArn", v), v)

    @field_validator("bucket")
    @classmethod
    def _bucket(cls, v: str) -> str:
        return _check(bucket_error(v), v)


class ModelSettings(_Section):
    artifact: str = Field(min_length=1)
    sample_payload: str = Field(min_length=1)
    xgboost_container_version: Literal["1.7-1", "3.0-5", "3.2-0"] = "3.0-5"

    @field_validator("artifact", "sample_payload")
    @classmethod
    def _location(cls, v: str) -> str:
        return _check(s3_uri_error(v), v) if v.startswith("s3://") else v


class PipelineSettings(_Section):
    name: str
    processing_instance_type: str = "ml.t3.medium"
    processing_image_version: str = "1.4-2-py312"

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return _check(pattern_error("sagemaker", "PipelineName", v), v)

    @field_validator("processing_instance_type")
    @classmethod
    def _instance(cls, v: str) -> str:
        allowed = enum_values("sagemaker", "ProcessingInstanceType")
        return _check(None if v in allowed else "a SageMaker processing instance type", v)


class ServingSettings(_Section):
    # The fast image (serving/), registered beside the stock XGBoost image; in ECR, by tag or digest.
    image_uri: str

    @field_validator("image_uri")
    @classmethod
    def _image(cls, v: str) -> str:
        _check(pattern_error("sagemaker", "ContainerImage", v), v)
        return _check(ecr_image_error(v), v)


class RegistrySettings(_Section):
    model_package_group: str

    @field_validator("model_package_group")
    @classmethod
    def _group(cls, v: str) -> str:
        return _check(pattern_error("sagemaker", "EntityName", v), v)


class ApprovalSettings(_Section):
    mode: Literal["auto", "manual"] = "manual"


class RecommenderSettings(_Section):
    job_type: Literal["Default", "Advanced"] = "Default"
    instance_types: list[str] = Field(min_length=1, max_length=10)
    omp_num_threads: list[str] = Field(default_factory=lambda: ["1"], min_length=1)
    max_latency_ms: int = Field(gt=0, le=60_000)
    latency_percentile: Literal["P95", "P99"] = "P99"
    peak_requests_per_second: float = Field(gt=0)
    safety_factor: float = Field(gt=0, le=1)
    max_cost_per_inference: float = Field(gt=0)
    max_fleet_cost_per_hour: float = Field(gt=0)
    job_duration_seconds: int = Field(default=7200, ge=60, le=86_400)
    traffic_phase_seconds: int = Field(default=120, ge=10, le=3600)

    @field_validator("instance_types")
    @classmethod
    def _instances(cls, v: list[str]) -> list[str]:
        unknown = [t for t in v if t not in realtime_instance_types()]
        if unknown:
            raise ValueError(f"expected SageMaker real-time instance types, unknown: {unknown}")
        return v

    @field_validator("omp_num_threads")
    @classmethod
    def _threads(cls, v: list[str]) -> list[str]:
        if not all(t.isdigit() and 0 < int(t) <= 192 for t in v):
            raise ValueError(f"expected thread counts as strings of 1..192, got {v}")
        return v


def _bounded(bound: deploy_bounds.Bound) -> Any:
    """A field holding `bound`'s default and range, the ones the deploy Lambda enforces."""
    return Field(default=bound.default, ge=bound.lo, le=bound.hi)


class DeploySettings(_Section):
    endpoint_name: str
    # lambda: an approval deploys at once (deploy_lambda); codepipeline: it starts the model
    # deploy pipeline (staging, golden check, load test, a person, production). Never both.
    path: Literal[deploy_bounds.DEPLOY_PATHS] = deploy_bounds.DEFAULT_DEPLOY_PATH
    staging_min_instances: int = _bounded(deploy_bounds.STAGING_MIN_INSTANCES)
    staging_max_instances: int = _bounded(deploy_bounds.STAGING_MAX_INSTANCES)
    min_instances: int = _bounded(deploy_bounds.MIN_INSTANCES)
    max_instances: int = _bounded(deploy_bounds.MAX_INSTANCES)
    scale_in_cooldown_seconds: int = _bounded(deploy_bounds.SCALE_IN_COOLDOWN_SECONDS)
    scale_out_cooldown_seconds: int = _bounded(deploy_bounds.SCALE_OUT_COOLDOWN_SECONDS)
    # Subscripting Literal with the tuple spreads it: Literal["all_at_once", "canary", "linear"].
    strategy: Literal[deploy_bounds.STRATEGIES] = deploy_bounds.DEFAULT_STRATEGY
    canary_percent: int = _bounded(deploy_bounds.CANARY_PERCENT)
    linear_step_percent: int = _bounded(deploy_bounds.LINEAR_STEP_PERCENT)
    wait_interval_seconds: int = _bounded(deploy_bounds.WAIT_INTERVAL_SECONDS)
    termination_wait_seconds: int = _bounded(deploy_bounds.TERMINATION_WAIT_SECONDS)
    rollback_on_reject: bool = deploy_bounds.ROLLBACK_ON_REJECT
    kms_key_id: str | None = None
    data_capture_percent: int = _bounded(deploy_bounds.DATA_CAPTURE_PERCENT)

    @field_validator("endpoint_name")
    @classmethod
    def _endpoint(cls, v: str) -> str:
        _check(pattern_error("sagemaker", "EndpointName", v), v)
        # SageMaker writes endpoint ARNs in lowercase, so a name with capitals never matches the
        # deploy role's policy ARNs (which are built from the name).
        return _check(None if v == v.lower() else "a lowercase endpoint name", v)

    @field_validator("kms_key_id")
    @classmethod
    def _kms(cls, v: str | None) -> str | None:
        return v if v is None else _check(pattern_error("sagemaker", "KmsKeyId", v), v)

    @model_validator(mode="after")
    def _bounds(self) -> DeploySettings:
        if self.max_instances < self.min_instances:
            raise ValueError(
                f"expected max_instances >= min_instances, got {self.max_instances} < {self.min_instances}"
            )
        if self.staging_max_instances < self.staging_min_instances:
            raise ValueError(
                "expected staging_max_instances >= staging_min_instances,"
                f" got {self.staging_max_instances} < {self.staging_min_instances}"
            )
        staging = staging_endpoint_name(self.endpoint_name)
        if self.path == "codepipeline" and pattern_error("sagemaker", "EndpointName", staging):
            raise ValueError(f"expected an endpoint_name that leaves room for its staging endpoint, {staging!r} is not")
        return self


class PipelineConfig(_Section):
    aws: AwsSettings
    model: ModelSettings
    pipeline: PipelineSettings
    registry: RegistrySettings
    serving: ServingSettings
    approval: ApprovalSettings = ApprovalSettings()
    recommender: RecommenderSettings
    deploy: DeploySettings

    @property
    def s3_root(self) -> str:
        return f"s3://{self.aws.bucket}/{self.aws.prefix}"


@dataclass(frozen=True)
class _Source:
    """Where one leaf value came from, for error messages."""

    where: str


def _line_map(text: str, path: Path) -> dict[tuple[str, ...], _Source]:
    """Map each key path in the YAML document to `file:line` of its value."""
    out: dict[tuple[str, ...], _Source] = {}

    def walk(node: yaml.Node, prefix: tuple[str, ...]) -> None:
        out[prefix] = _Source(f"{path}:{node.start_mark.line + 1}")
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                walk(value, (*prefix, str(key.value)))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, (*prefix, str(i)))

    root = safe_yaml.compose(text)
    if root is not None:
        walk(root, ())
    return out


def _set_path(doc: dict, keys: tuple[str, ...], value: Any) -> None:
    for key in keys[:-1]:
        nxt = doc.setdefault(key, {})
        if not isinstance(nxt, dict):
            raise ConfigError(f"cannot set {'.'.join(keys)}: {key} is not a section")
        doc = nxt
    doc[keys[-1]] = value


def _parse_scalar(text: str, where: str) -> Any:
    try:
        return safe_yaml.load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where}: not a YAML value: {exc}") from exc


def _env_overrides(environ: dict[str, str]) -> list[tuple[tuple[str, ...], Any, _Source]]:
    out = []
    for name, raw in sorted(environ.items()):
        if name.startswith(ENV_PREFIX):
            keys = tuple(part.lower() for part in name[len(ENV_PREFIX) :].split("__"))
            where = f"environment variable {name}"
            out.append((keys, _parse_scalar(raw, where), _Source(where)))
    return out


def _flag_overrides(assignments: list[str]) -> list[tuple[tuple[str, ...], Any, _Source]]:
    out = []
    for item in assignments:
        dotted, sep, raw = item.partition("=")
        if not sep or not dotted:
            raise ConfigError(f"--set {item!r}: expected section.key=value")
        where = f"flag --set {dotted}"
        out.append((tuple(dotted.split(".")), _parse_scalar(raw, where), _Source(where)))
    return out


def _format_errors(exc: ValidationError, sources: dict[tuple[str, ...], _Source], path: Path) -> str:
    lines = []
    for err in exc.errors():
        loc = tuple(str(p) for p in err["loc"])
        source = next((sources[loc[:i]] for i in range(len(loc), -1, -1) if loc[:i] in sources), None)
        where = source.where if source else str(path)
        dotted = ".".join(loc) or "(top level)"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key (check the spelling; see config/pipeline.yaml for the keys)"
        elif err["type"] == "missing":
            msg = "required key is missing"
        elif "got " not in msg:
            msg = f"{msg}, got {err['input']!r}"
        lines.append(f"{where}: {dotted}: {msg}")
    return "invalid configuration:\n  " + "\n  ".join(lines)


def load_config(
    path: str | Path,
    overrides: list[str] | None = None,
    environ: dict[str, str] | None = None,
) -> PipelineConfig:
    """Load the YAML file, apply environment then flag overrides, and validate."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the configuration file: {exc.strerror}") from exc
    try:
        doc = safe_yaml.load(text) or {}
        sources = _line_map(text, path)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}: expected a mapping of sections at the top level")
    for keys, value, source in _env_overrides(os.environ if environ is None else environ) + _flag_overrides(
        overrides or []
    ):
        _set_path(doc, keys, value)
        for known in [k for k in sources if k[: len(keys)] == keys]:
            del sources[known]
        sources[keys] = source
    try:
        return PipelineConfig.model_validate(doc)
    except ValidationError as exc:
        raise ConfigError(_format_errors(exc, sources, path)) from None
