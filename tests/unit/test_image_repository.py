"""pipelines/templates/image-repository.yaml: deployed with `rtb-mlops stack image-repository`
(moto's CloudFormation and ECR), it makes a scanned, immutable repository whose lifecycle policy
keeps what registered model versions may still need, and outputs the URI CodeBuild pushes to."""

import json

import boto3
import pytest
import yaml
from moto.cloudformation.models import Stack
from moto.ecr.models import Repository

from emulator import cloudformation_fixes
from pipelines.config import load_config
from pipelines.local_run import LOCAL_OVERRIDES
from pipelines.stack import IMAGE_REPOSITORY_STACK, IMAGE_REPOSITORY_TEMPLATE, deploy_image_repository_stack
from tests.integration.conftest import CONFIG
from tests.unit.test_template import ROLE_TEMPLATE, _CfnLoader

REGION = "us-east-1"


@pytest.fixture
def outputs(moto_aws, monkeypatch):
    """With the emulator's CloudFormation fixes (undone after the test)."""
    monkeypatch.setattr(Repository, "create_from_cloudformation_json", Repository.create_from_cloudformation_json)
    for name in ("create_resources", "outputs", "exports", "stack_resources"):
        monkeypatch.setattr(Stack, name, Stack.__dict__[name])
    cloudformation_fixes.apply()
    return deploy_image_repository_stack(load_config(CONFIG, LOCAL_OVERRIDES, environ={}), timeout=30)


def test_the_stack_outputs_the_repository_uri(outputs):
    repo = boto3.client("ecr", region_name=REGION).describe_repositories()["repositories"][0]
    assert outputs["RepositoryUri"] == repo["repositoryUri"]
    assert outputs["RepositoryUri"].endswith(".dkr.ecr.us-east-1.amazonaws.com/rtb-mlops-serving")
    assert outputs["RepositoryArn"] == repo["repositoryArn"]
    assert repo["imageScanningConfiguration"] == {"scanOnPush": True}
    assert repo["imageTagMutability"] == "IMMUTABLE"


def test_the_lifecycle_policy_expires_untagged_first_and_keeps_the_newest(outputs):
    ecr = boto3.client("ecr", region_name=REGION)
    policy = json.loads(ecr.get_lifecycle_policy(repositoryName="rtb-mlops-serving")["lifecyclePolicyText"])
    rules = sorted(policy["rules"], key=lambda r: r["rulePriority"])
    assert [r["selection"]["tagStatus"] for r in rules] == ["untagged", "any"]
    assert rules[0]["selection"] == {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days",
                                     "countNumber": 7}  # fmt: skip
    assert rules[1]["selection"] == {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 200}


def test_deploying_again_changes_nothing(outputs, moto_aws):
    again = deploy_image_repository_stack(load_config(CONFIG, LOCAL_OVERRIDES, environ={}), timeout=30)
    assert again == outputs
    cfn = boto3.client("cloudformation", region_name=REGION)
    assert cfn.describe_stacks(StackName=IMAGE_REPOSITORY_STACK)["Stacks"][0]["StackStatus"] in (
        "CREATE_COMPLETE", "UPDATE_COMPLETE"
    )  # fmt: skip


def test_images_outlive_the_stack():
    """Registered model versions reference their image: deleting the stack keeps the repository."""
    resource = yaml.load(IMAGE_REPOSITORY_TEMPLATE.read_text(), Loader=_CfnLoader)["Resources"]["Repository"]  # noqa: S506 - a SafeLoader subclass
    assert (resource["DeletionPolicy"], resource["UpdateReplacePolicy"]) == ("Retain", "Retain")


def test_the_execution_role_may_pull_from_the_repository():
    """SageMaker pulls a model's image with the model's execution role."""
    role = yaml.load(ROLE_TEMPLATE.read_text(), Loader=_CfnLoader)  # noqa: S506 - a SafeLoader subclass
    repository = yaml.load(IMAGE_REPOSITORY_TEMPLATE.read_text(), Loader=_CfnLoader)  # noqa: S506
    default = repository["Parameters"]["RepositoryName"]["Default"]
    assert role["Parameters"]["ServingImageRepositoryName"]["Default"] == default
    statements = role["Resources"]["ExecutionRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    pull = next(s for s in statements if s.get("Sid") == "PullTheProjectsServingImage")
    assert "ecr:BatchGetImage" in pull["Action"]
    assert pull["Resource"]["Sub"].endswith(":${AWS::AccountId}:repository/${ServingImageRepositoryName}")
