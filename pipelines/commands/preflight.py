"""`rtb-mlops preflight`: before the first real run, a checklist against the configured account.
Each line is PASS, WARN or FAIL with the fix; the exit status is 1 on any FAIL."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from pipelines.commands.common import add_config_flags, load
from pipelines.config import PipelineConfig

if TYPE_CHECKING:  # the checks import boto3 and the SageMaker SDK: only when run
    from pipelines.preflight import Account, Needed, Result

# Both roles may pass the execution role to SageMaker only: the simulation sends the key IAM
# sets on a PassRole, as it does for a real CreateModel or CreateInferenceRecommendationsJob.
_PASSED_TO_SAGEMAKER = {"iam:PassedToService": ["sagemaker.amazonaws.com"]}


def add(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("preflight", help="check the configured account is ready for a first run")
    add_config_flags(p)
    p.set_defaults(func=run)


def _execution_needs(cfg: PipelineConfig, at: Account) -> list[Needed]:
    """Representative calls of the pipeline, the Recommend and gate steps and the IR job
    (pipelines/templates/execution-role.yaml)."""
    from pipelines.ecr_image import EcrImage
    from pipelines.preflight import Needed

    group = cfg.registry.model_package_group
    prefix = f"arn:{at.partition}:s3:::{cfg.aws.bucket}/{cfg.aws.prefix}"
    return [
        Needed("sagemaker:CreateModelPackage", at.sagemaker(f"model-package/{group}/1")),
        Needed("sagemaker:UpdateModelPackage", at.sagemaker(f"model-package/{group}/1")),
        Needed("sagemaker:CreateProcessingJob", at.sagemaker("processing-job/pipelines-preflight-recommend")),
        Needed("sagemaker:CreateInferenceRecommendationsJob", at.sagemaker(f"inference-recommendations-job/{group}-1")),
        Needed("sagemaker:ListModelPackages"),
        Needed("s3:GetObject", f"{prefix}/artifacts/model.tar.gz"),
        Needed("s3:PutObject", f"{prefix}/results/recommend.json"),
        Needed("servicequotas:ListServiceQuotas"),
        Needed("iam:PassRole", cfg.aws.role_arn, _PASSED_TO_SAGEMAKER),
        # The Parity step, the recommender job and the endpoint pull the fast image as this role.
        Needed("ecr:BatchGetImage", EcrImage.parse(cfg.serving.image_uri).repository_arn),
    ]


def _deploy_needs(cfg: PipelineConfig, at: Account) -> list[Needed]:
    """Representative calls of the deploy Lambda (deploy_lambda/template.yaml)."""
    from pipelines.preflight import Needed

    name = cfg.deploy.endpoint_name
    return [
        Needed("sagemaker:DescribeModelPackage", at.sagemaker(f"model-package/{cfg.registry.model_package_group}/1")),
        Needed("sagemaker:CreateModel", at.sagemaker(f"model/{name}-1")),
        Needed("sagemaker:CreateEndpointConfig", at.sagemaker(f"endpoint-config/{name}-1")),
        Needed("sagemaker:CreateEndpoint", at.sagemaker(f"endpoint/{name}")),
        Needed("sagemaker:UpdateEndpoint", at.sagemaker(f"endpoint/{name}")),
        Needed("iam:PassRole", cfg.aws.role_arn, _PASSED_TO_SAGEMAKER),
    ]


def checks(cfg: PipelineConfig) -> list[Result]:
    from model_registry.aws import client
    from pipelines import preflight as pf
    from pipelines.stack import stack_name

    r = cfg.aws.region
    iam = client("iam", r)
    first, caller = pf.identity(client("sts", r))
    results = [first, pf.region(r)]
    if not caller:  # nothing else can be asked without credentials
        return results
    at = pf.Account(cfg.aws.role_arn.split(":")[4], caller.split(":")[1], r)
    results.append(pf.role_exists(iam, cfg.aws.role_arn, "execution role"))
    if results[-1].status is pf.Status.PASS:
        fix = "deploy the execution role template (`rtb-mlops stack deploy`) or grant the calls listed"
        results.append(pf.simulate(iam, cfg.aws.role_arn, _execution_needs(cfg, at), "execution role policy", fix))
    results.append(pf.bucket(client("s3", r), cfg.aws.bucket))
    results.append(pf.images(r, cfg.model.xgboost_container_version, cfg.pipeline.processing_image_version))
    results += pf.instance_quotas(
        client("service-quotas", r), cfg.recommender.instance_types, cfg.deploy.min_instances, cfg.deploy.max_instances
    )
    stack, function_role = pf.stack_role(client("cloudformation", r), iam, stack_name(cfg), "DeployFunctionRole")
    results.append(stack)
    if function_role:
        fix = "update the deploy stack (`rtb-mlops stack deploy`)"
        results.append(pf.simulate(iam, function_role, _deploy_needs(cfg, at), "deploy function role policy", fix))
    return results


def run(args: argparse.Namespace) -> int:
    from pipelines.preflight import Status

    results = checks(load(args))
    for res in results:
        print(f"{res.status.value:4}  {res.check}: {res.detail}" + (f"\n      fix: {res.fix}" if res.fix else ""))
    return 1 if any(res.status is Status.FAIL for res in results) else 0
