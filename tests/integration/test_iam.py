"""The strict emulator's IAM on the real flow: each actor with its own identity, and a deploy role
missing one statement refused as AWS would refuse it."""

from __future__ import annotations

import io

import pytest

from emulator import control
from model_registry.aws import client
from pipelines import stack
from pipelines.commands.demo import summarise
from pipelines.local_run import LocalRun, endpoint_ready, prepare_account, run_pipeline
from tests.integration.test_flow import config

pytestmark = pytest.mark.integration
GRANTED = "[sagemaker:CreateModel, sagemaker:DescribeModel, sagemaker:CreateEndpointConfig, "


def test_without_create_endpoint_config_the_approval_deploy_is_refused_naming_action_and_resource(
    emulator, example_model, tmp_path, monkeypatch
):
    text = stack.TEMPLATE.read_text()
    assert GRANTED in text  # the statement this test takes the action out of
    reduced = tmp_path / "template.yaml"
    reduced.write_text(text.replace(GRANTED, "[sagemaker:CreateModel, sagemaker:DescribeModel, "))
    monkeypatch.setattr(stack, "TEMPLATE", reduced)
    cfg = config("iam-denied", example_model=example_model)
    prepare_account(cfg)
    execution, _ = run_pipeline(cfg, io.StringIO())
    assert execution.status == "Succeeded", execution.failure_reason
    # The gate approved it, as the pipeline's execution role (its Approve processing job).
    sm = client("sagemaker", cfg.aws.region)
    package = sm.list_model_packages(ModelPackageGroupName="iam-denied")["ModelPackageSummaryList"][0]
    approver = sm.describe_model_package(ModelPackageName=package["ModelPackageArn"])["LastModifiedBy"]
    assert approver["IamIdentity"]["Arn"].startswith(
        "arn:aws:sts::123456789012:assumed-role/rtb-mlops-iam-denied/pipelines-"
    )

    def refused() -> list[str]:
        return [m for m in control.denials(emulator.url) if "iam-denied" in m]

    with pytest.raises(RuntimeError) as err:
        endpoint_ready(cfg, io.StringIO(), timeout=120, refused=refused)
    message = str(err.value)
    assert message.startswith("AccessDenied: User: arn:aws:sts::123456789012:assumed-role/")  # the function's role
    assert "is not authorized to perform: sagemaker:CreateEndpointConfig on resource:" in message
    assert "arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/iam-denied-" in message

    # What `make run` prints in its summary for such a run (and it exits non-zero: demo.run).
    out = io.StringIO()
    summarise(LocalRun(failure=f"deploy: {message}", denials=refused()), keep=False, out=out)
    assert "sagemaker:CreateEndpointConfig on resource: arn:aws:sagemaker" in out.getvalue()


def test_the_package_records_the_real_caller_role_or_person(auto_flow):
    cfg = auto_flow[0]
    sm = client("sagemaker", cfg.aws.region)
    arn = sm.list_model_packages(ModelPackageGroupName=cfg.registry.model_package_group)["ModelPackageSummaryList"][0][
        "ModelPackageArn"
    ]
    role = f"arn:aws:sts::123456789012:assumed-role/rtb-mlops-{cfg.registry.model_package_group}/"
    # The pipeline's RegisterModel step created it, as the pipeline's execution role.
    assert sm.describe_model_package(ModelPackageName=arn)["CreatedBy"]["IamIdentity"]["Arn"].startswith(role)
    # A person's change is recorded as theirs (the CLI's user, not moto's placeholder profile).
    sm.update_model_package(ModelPackageArn=arn, ApprovalDescription="checked by a person")
    modified = sm.describe_model_package(ModelPackageName=arn)["LastModifiedBy"]["IamIdentity"]
    assert modified["Arn"] == "arn:aws:iam::123456789012:user/ml-engineer"
