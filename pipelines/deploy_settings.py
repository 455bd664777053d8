"""The deploy configuration as the Lambda sees it (environment) and as CloudFormation
takes it (stack parameters), from the one `deploy` section of config/pipeline.yaml."""

from __future__ import annotations

from deploy_lambda.settings import Settings
from model_registry.names import staging_endpoint_name
from pipelines.config import PipelineConfig


def lambda_settings(cfg: PipelineConfig, staging: bool = False) -> Settings:
    """The production endpoint's settings, or (`staging`) the CodePipeline path's staging
    endpoint's: `<endpoint>-staging` with its own autoscaling bounds."""
    d = cfg.deploy
    return Settings(
        endpoint_name=staging_endpoint_name(d.endpoint_name) if staging else d.endpoint_name,
        model_package_group=cfg.registry.model_package_group,
        execution_role_arn=cfg.aws.role_arn,
        instance_types=tuple(cfg.recommender.instance_types),
        max_instances=d.max_instances,
        strategy=d.strategy,
        canary_percent=d.canary_percent,
        linear_step_percent=d.linear_step_percent,
        wait_interval_seconds=d.wait_interval_seconds,
        termination_wait_seconds=d.termination_wait_seconds,
        scale_in_cooldown_seconds=d.scale_in_cooldown_seconds,
        scale_out_cooldown_seconds=d.scale_out_cooldown_seconds,
        rollback_on_reject=d.rollback_on_reject,
        max_latency_ms=cfg.recommender.max_latency_ms,
        kms_key_id=d.kms_key_id or "",
        data_capture_percent=d.data_capture_percent,
        data_capture_s3_uri=f"{cfg.s3_root}/data-capture" if d.data_capture_percent else "",
        deploy_path=d.path,
        instance_bounds=(d.staging_min_instances, d.staging_max_instances) if staging else None,
    )


def stack_parameters(cfg: PipelineConfig, code_bucket: str, code_key: str) -> dict[str, str]:
    s = lambda_settings(cfg)
    return {
        "EndpointName": s.endpoint_name,
        "ModelPackageGroupName": s.model_package_group,
        "SageMakerExecutionRoleArn": s.execution_role_arn,
        "CodeS3Bucket": code_bucket,
        "CodeS3Key": code_key,
        "AllowedInstanceTypes": ",".join(s.instance_types),
        "MaxInstances": str(s.max_instances),
        "DeploymentStrategy": s.strategy,
        "CanaryPercent": str(s.canary_percent),
        "LinearStepPercent": str(s.linear_step_percent),
        "WaitIntervalSeconds": str(s.wait_interval_seconds),
        "TerminationWaitSeconds": str(s.termination_wait_seconds),
        "ScaleInCooldownSeconds": str(s.scale_in_cooldown_seconds),
        "ScaleOutCooldownSeconds": str(s.scale_out_cooldown_seconds),
        "RollbackOnReject": "true" if s.rollback_on_reject else "false",
        "MaxLatencyMs": str(s.max_latency_ms),
        "KmsKeyId": s.kms_key_id,
        "DataCapturePercent": str(s.data_capture_percent),
        "DataCaptureS3Uri": s.data_capture_s3_uri,
        "DeployPath": s.deploy_path,
    }
