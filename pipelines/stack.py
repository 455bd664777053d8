"""The project's CloudFormation stacks: the SageMaker execution role, then the deploy Lambda
(its code zipped and uploaded), each created or updated and followed to the end; and the ECR
repository of the serving image, which CodeBuild's image stage deploys before it pushes."""

from __future__ import annotations

import time
from pathlib import Path

from botocore.exceptions import ClientError

from model_registry.aws import client
from pipelines import code_bundle
from pipelines.config import ConfigError, PipelineConfig
from pipelines.deploy_settings import stack_parameters
from pipelines.ecr_image import EcrImage

TEMPLATE = Path(__file__).resolve().parent.parent / "deploy_lambda" / "template.yaml"
ROLE_TEMPLATE = Path(__file__).resolve().parent / "templates" / "execution-role.yaml"
IMAGE_REPOSITORY_TEMPLATE = Path(__file__).resolve().parent / "templates" / "image-repository.yaml"
IMAGE_REPOSITORY_STACK = "rtb-mlops-image-repository"
CICD_TEMPLATE = Path(__file__).resolve().parent / "templates" / "cicd.yaml"
_DONE = ("CREATE_COMPLETE", "UPDATE_COMPLETE")


class StackError(RuntimeError):
    pass


def stack_name(cfg: PipelineConfig) -> str:
    return f"{cfg.deploy.endpoint_name}-deploy"


def _first_failure(cfn, name: str) -> str:
    """Why the stack failed: CloudFormation says it on the first resource that failed."""
    events = cfn.describe_stack_events(StackName=name).get("StackEvents", [])
    failed = [e for e in events if e.get("ResourceStatus", "").endswith("FAILED")]
    return failed[-1].get("ResourceStatusReason", "") if failed else ""


def role_stack_name(cfg: PipelineConfig) -> str:
    return f"{role_name(cfg)}-role"


def role_name(cfg: PipelineConfig) -> str:
    return cfg.aws.role_arn.rsplit("/", 1)[-1]


def cicd_stack_name(cfg: PipelineConfig) -> str:
    return f"{cfg.deploy.endpoint_name}-cicd"


def _upload_lambda_code(cfg: PipelineConfig) -> str:
    """The deploy Lambda's zip (which holds the CI/CD stack's start function too); its key."""
    bundle = code_bundle.collect(code_bundle.LAMBDA_PACKAGES)
    key = f"{cfg.aws.prefix}/code/lambda/{bundle.digest[:16]}.zip"
    client("s3", cfg.aws.region).put_object(Bucket=cfg.aws.bucket, Key=key, Body=bundle.zip_bytes())
    return key


def deploy_stack(cfg: PipelineConfig, timeout: float = 900.0) -> dict[str, str]:
    """Both stacks; the deploy stack's outputs once it is complete."""
    deploy_role_stack(cfg, timeout)
    params = stack_parameters(cfg, cfg.aws.bucket, _upload_lambda_code(cfg))
    return _deploy(cfg, stack_name(cfg), TEMPLATE, params, "CAPABILITY_IAM", timeout)


def deploy_cicd_stack(
    cfg: PipelineConfig, source_zip: bytes, timeout: float = 900.0, extra: dict[str, str] | None = None
) -> dict[str, str]:
    """The CodePipeline path (templates/cicd.yaml), after the role and deploy stacks (whose
    approval rule the config's deploy.path = codepipeline disables); then the project's source
    goes to the stack's bucket, where both pipelines' source actions read it. `extra`: more of the
    template's parameters (DeployImage, LoadTestArgs, ...)."""
    from pipelines.inputs import resolve

    if cfg.deploy.path != "codepipeline":
        raise ConfigError(
            f"deploy.path is {cfg.deploy.path!r}: the deploy Lambda deploys approvals of {cfg.deploy.endpoint_name},"
            " and a CI/CD stack would deploy them a second time; set deploy.path=codepipeline"
        )
    deploy_stack(cfg, timeout)
    # Validated (and uploaded when local) now, not when the first build runs.
    inputs = resolve(cfg, client("s3", cfg.aws.region), cfg.model.artifact, cfg.model.sample_payload)
    params = {
        "EndpointName": cfg.deploy.endpoint_name,
        "ModelPackageGroupName": cfg.registry.model_package_group,
        "SageMakerPipelineName": cfg.pipeline.name,
        "SageMakerExecutionRoleArn": cfg.aws.role_arn,
        "ArtifactBucket": cfg.aws.bucket,
        "ArtifactPrefix": cfg.aws.prefix,
        "CodeS3Bucket": cfg.aws.bucket,
        "CodeS3Key": _upload_lambda_code(cfg),
        "ModelArtifactUri": inputs.artifact_uri,
        "SamplePayloadUri": inputs.payload_uri,
        "StagingMinInstances": str(cfg.deploy.staging_min_instances),
        "StagingMaxInstances": str(cfg.deploy.staging_max_instances),
        "KmsKeyId": cfg.deploy.kms_key_id or "",
        "ServingImageRepositoryName": EcrImage.parse(cfg.serving.image_uri).repository,
        **(extra or {}),
    }
    outputs = _deploy(cfg, cicd_stack_name(cfg), CICD_TEMPLATE, params, "CAPABILITY_IAM", timeout)
    client("s3", cfg.aws.region).put_object(
        Bucket=outputs["PipelineBucketName"], Key=outputs["SourceObjectKey"], Body=source_zip
    )
    return outputs


def deploy_role_stack(cfg: PipelineConfig, timeout: float = 900.0) -> dict[str, str]:
    """The execution role the pipeline, its jobs and the endpoint's models run as (a named role:
    the configuration names its ARN, so CloudFormation needs CAPABILITY_NAMED_IAM)."""
    params = {
        "RoleName": role_name(cfg),
        "BucketName": cfg.aws.bucket,
        "Prefix": cfg.aws.prefix,
        "ModelPackageGroupName": cfg.registry.model_package_group,
        "ServingImageRepositoryName": EcrImage.parse(cfg.serving.image_uri).repository,
    }
    return _deploy(cfg, role_stack_name(cfg), ROLE_TEMPLATE, params, "CAPABILITY_NAMED_IAM", timeout)


def deploy_image_repository_stack(cfg: PipelineConfig, timeout: float = 900.0) -> dict[str, str]:
    """The serving image's ECR repository (the template's defaults); its outputs, RepositoryUri among them."""
    return _deploy(cfg, IMAGE_REPOSITORY_STACK, IMAGE_REPOSITORY_TEMPLATE, {}, None, timeout)


def _deploy(
    cfg: PipelineConfig, name: str, template: Path, params: dict[str, str], capability: str | None, timeout: float
) -> dict[str, str]:
    cfn = client("cloudformation", cfg.aws.region)
    kwargs = {
        "StackName": name,
        "TemplateBody": template.read_text(),
        "Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in params.items()],
        "Capabilities": [capability] if capability else [],
    }
    try:
        cfn.describe_stacks(StackName=name)
        exists = True
    except ClientError:
        exists = False
    try:
        (cfn.update_stack if exists else cfn.create_stack)(**kwargs)
    except ClientError as exc:
        if "No updates are to be performed" not in str(exc):
            raise
    began, delay = time.monotonic(), 0.5
    while True:
        stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
        if stack["StackStatus"] in _DONE:
            return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        if stack["StackStatus"].endswith(("FAILED", "ROLLBACK_COMPLETE")) or time.monotonic() - began > timeout:
            reason = stack.get("StackStatusReason") or _first_failure(cfn, name)
            raise StackError(f"stack {name} is {stack['StackStatus']}: {reason}")
        time.sleep(delay)
        delay = min(10.0, delay * 2)
