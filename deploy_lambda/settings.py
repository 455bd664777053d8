"""The Lambda's configuration, from its environment; every error names the variable."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from model_registry import deploy_bounds as b
from model_registry.errors import UserError

_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")
# The form of an instance type (the template's AllowedPattern); which ones exist, the config checks.
_INSTANCE_TYPE = re.compile(r"ml\.[a-z0-9]+\.[a-z0-9]+")
_ROLE = re.compile(r"arn:aws[a-z\-]*:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+")


class SettingsError(UserError):
    """A variable of the Lambda's environment that cannot be used; the message names it."""


@dataclass(frozen=True)
class Settings:
    endpoint_name: str
    model_package_group: str
    execution_role_arn: str
    # The recommender's candidates (config `recommender.instance_types`): nothing else is deployed.
    instance_types: tuple[str, ...]
    # The most instances any count or bound in a package's metadata may ask for.
    max_instances: int = b.MAX_INSTANCES.default
    strategy: str = b.DEFAULT_STRATEGY
    canary_percent: int = b.CANARY_PERCENT.default
    linear_step_percent: int = b.LINEAR_STEP_PERCENT.default
    wait_interval_seconds: int = b.WAIT_INTERVAL_SECONDS.default
    termination_wait_seconds: int = b.TERMINATION_WAIT_SECONDS.default
    scale_in_cooldown_seconds: int = b.SCALE_IN_COOLDOWN_SECONDS.default
    scale_out_cooldown_seconds: int = b.SCALE_OUT_COOLDOWN_SECONDS.default
    rollback_on_reject: bool = b.ROLLBACK_ON_REJECT
    max_latency_ms: int = b.MAX_LATENCY_MS.default
    error_alarm_threshold: int = b.ERROR_ALARM_THRESHOLD.default
    kms_key_id: str = ""
    data_capture_percent: int = b.DATA_CAPTURE_PERCENT.default
    data_capture_s3_uri: str = ""
    # "codepipeline": approvals of this endpoint are the model deploy pipeline's to deploy, and
    # this function skips them (config deploy.path; the template disables its rule too).
    deploy_path: str = b.DEFAULT_DEPLOY_PATH
    # This endpoint's own autoscaling bounds (the CodePipeline path's staging endpoint), in place
    # of the recommendation's; the count deployed is held within them. None: the recommendation's.
    instance_bounds: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        for var, value in (
            ("ENDPOINT_NAME", self.endpoint_name),
            ("MODEL_PACKAGE_GROUP_NAME", self.model_package_group),
        ):
            if not _NAME.fullmatch(value):
                raise SettingsError(f"{var}={value!r}: expected 1-63 letters, digits or hyphens")
        if not _ROLE.fullmatch(self.execution_role_arn):
            raise SettingsError(f"SAGEMAKER_EXECUTION_ROLE_ARN={self.execution_role_arn!r}: expected an IAM role ARN")
        if not self.instance_types or not all(_INSTANCE_TYPE.fullmatch(t) for t in self.instance_types):
            raise SettingsError(
                f"ALLOWED_INSTANCE_TYPES={','.join(self.instance_types)!r}: expected instance types separated by"
                " commas, such as ml.c5.large,ml.c5.xlarge"
            )
        if self.strategy not in b.STRATEGIES:
            raise SettingsError(f"DEPLOYMENT_STRATEGY={self.strategy!r}: expected one of {b.STRATEGIES}")
        if self.deploy_path not in b.DEPLOY_PATHS:
            raise SettingsError(f"DEPLOY_PATH={self.deploy_path!r}: expected one of {b.DEPLOY_PATHS}")
        if self.data_capture_percent and not self.data_capture_s3_uri.startswith("s3://"):
            raise SettingsError("DATA_CAPTURE_S3_URI: expected an s3:// URI when DATA_CAPTURE_PERCENT is set")

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        required = (
            "ENDPOINT_NAME",
            "MODEL_PACKAGE_GROUP_NAME",
            "SAGEMAKER_EXECUTION_ROLE_ARN",
            "ALLOWED_INSTANCE_TYPES",
        )
        missing = [v for v in required if not env.get(v)]
        if missing:
            raise SettingsError(f"missing required environment variables: {', '.join(missing)}")
        return cls(
            endpoint_name=env["ENDPOINT_NAME"],
            model_package_group=env["MODEL_PACKAGE_GROUP_NAME"],
            execution_role_arn=env["SAGEMAKER_EXECUTION_ROLE_ARN"],
            instance_types=tuple(t.strip() for t in env["ALLOWED_INSTANCE_TYPES"].split(",")),
            max_instances=_int(env, "MAX_INSTANCES", b.MAX_INSTANCES),
            strategy=env.get("DEPLOYMENT_STRATEGY", b.DEFAULT_STRATEGY),
            canary_percent=_int(env, "CANARY_PERCENT", b.CANARY_PERCENT),
            linear_step_percent=_int(env, "LINEAR_STEP_PERCENT", b.LINEAR_STEP_PERCENT),
            wait_interval_seconds=_int(env, "WAIT_INTERVAL_SECONDS", b.WAIT_INTERVAL_SECONDS),
            termination_wait_seconds=_int(env, "TERMINATION_WAIT_SECONDS", b.TERMINATION_WAIT_SECONDS),
            scale_in_cooldown_seconds=_int(env, "SCALE_IN_COOLDOWN_SECONDS", b.SCALE_IN_COOLDOWN_SECONDS),
            scale_out_cooldown_seconds=_int(env, "SCALE_OUT_COOLDOWN_SECONDS", b.SCALE_OUT_COOLDOWN_SECONDS),
            rollback_on_reject=_bool(env, "ROLLBACK_ON_REJECT", b.ROLLBACK_ON_REJECT),
            max_latency_ms=_int(env, "MAX_LATENCY_MS", b.MAX_LATENCY_MS),
            error_alarm_threshold=_int(env, "ERROR_ALARM_THRESHOLD", b.ERROR_ALARM_THRESHOLD),
            kms_key_id=env.get("KMS_KEY_ID", ""),
            data_capture_percent=_int(env, "DATA_CAPTURE_PERCENT", b.DATA_CAPTURE_PERCENT),
            data_capture_s3_uri=env.get("DATA_CAPTURE_S3_URI", ""),
            deploy_path=env.get("DEPLOY_PATH", b.DEFAULT_DEPLOY_PATH),
        )


def _int(env: dict[str, str], name: str, bound: b.Bound) -> int:
    raw = env.get(name, "")
    if raw == "":
        return bound.default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r}: expected an integer from {bound.lo} to {bound.hi}") from None
    if not bound.lo <= value <= bound.hi:
        raise SettingsError(f"{name}={raw!r}: expected an integer from {bound.lo} to {bound.hi}")
    return value


def _bool(env: dict[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw == "":
        return default
    if raw not in ("true", "false", "1", "0", "yes", "no"):
        raise SettingsError(f"{name}={raw!r}: expected true or false")
    return raw in ("true", "1", "yes")
