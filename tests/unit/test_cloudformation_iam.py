"""AWS::IAM::Role's ManagedPolicyArns attached by the emulator's CloudFormation, on create and
kept to the list on update (moto ignores the property)."""

from __future__ import annotations

import boto3
import pytest
import yaml

from emulator import cloudformation_fixes

REGION = "us-east-1"


def template(attached: list[str]) -> str:
    policy = {
        "Type": "AWS::IAM::ManagedPolicy",
        "Properties": {
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"}],
            }
        },
    }
    role = {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "RoleName": "stage-role",
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": "codebuild.amazonaws.com"}, "Action": "sts:AssumeRole"}
                ],
            },
            "ManagedPolicyArns": [{"Ref": name} for name in attached],
        },
    }
    return yaml.safe_dump({"Resources": {"First": policy, "Second": policy, "Role": role}})


@pytest.fixture
def cfn(moto_aws):
    cloudformation_fixes.apply()
    return boto3.client("cloudformation", region_name=REGION)


def _attached() -> set[str]:
    iam = boto3.client("iam", region_name=REGION)
    return {
        p["PolicyName"].split("-")[1]
        for p in iam.list_attached_role_policies(RoleName="stage-role")["AttachedPolicies"]
    }


def test_the_roles_managed_policies_are_attached_and_follow_the_template(cfn):
    cfn.create_stack(StackName="s", TemplateBody=template(["First", "Second"]))
    assert _attached() == {"First", "Second"}
    cfn.update_stack(StackName="s", TemplateBody=template(["Second"]))
    assert _attached() == {"Second"}
