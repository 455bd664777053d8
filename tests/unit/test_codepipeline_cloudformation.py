"""AWS::CodeBuild::Project and AWS::CodePipeline::Pipeline in moto's CloudFormation, as the
emulator adds them: created with the API's shapes, updated in place, refused as CodePipeline
refuses a declaration."""

from __future__ import annotations

import json

import boto3
import pytest
import yaml

from emulator import cloudformation_fixes

REGION = "us-east-1"
ROLE = {
    "Type": "AWS::IAM::Role",
    "Properties": {
        "AssumeRolePolicyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
                for service in ("codebuild.amazonaws.com", "codepipeline.amazonaws.com")
            ],
        }
    },
}


def template(stage: str, value: str, source_first: bool = True) -> str:
    stages = [
        {
            "Name": "Source",
            "Actions": [
                {
                    "Name": "Source",
                    "ActionTypeId": {"Category": "Source", "Owner": "AWS", "Provider": "S3", "Version": "1"},
                    "Configuration": {"S3Bucket": "b", "S3ObjectKey": "k.zip", "PollForSourceChanges": False},
                    "OutputArtifacts": [{"Name": "Src"}],
                }
            ],
        },
        {
            "Name": stage,
            "Actions": [
                {
                    "Name": "Run",
                    "ActionTypeId": {"Category": "Build", "Owner": "AWS", "Provider": "CodeBuild", "Version": "1"},
                    "Configuration": {"ProjectName": {"Ref": "Project"}},
                    "InputArtifacts": [{"Name": "Src"}],
                    "RunOrder": 2,
                }
            ],
        },
    ]
    resources = {
        "Role": ROLE,
        "Project": {
            "Type": "AWS::CodeBuild::Project",
            "Properties": {
                "Name": "proj",
                "ServiceRole": {"Fn::GetAtt": ["Role", "Arn"]},
                "Source": {"Type": "CODEPIPELINE", "BuildSpec": "buildspec.yml"},
                "Artifacts": {"Type": "CODEPIPELINE"},
                "Environment": {
                    "Type": "LINUX_CONTAINER",
                    "Image": "aws/codebuild/standard:7.0",
                    "ComputeType": "BUILD_GENERAL1_SMALL",
                    "EnvironmentVariables": [{"Name": "STAGE", "Value": value}],
                },
            },
        },
        "Pipeline": {
            "Type": "AWS::CodePipeline::Pipeline",
            "Properties": {
                "Name": "pipe",
                "PipelineType": "V2",
                "ExecutionMode": "QUEUED",
                "RoleArn": {"Fn::GetAtt": ["Role", "Arn"]},
                "ArtifactStore": {"Type": "S3", "Location": "b"},
                "Variables": [{"Name": "Arn", "DefaultValue": "none"}],
                "Stages": stages if source_first else stages[::-1],
            },
        },
    }
    outputs = {"ProjectArn": {"Value": {"Fn::GetAtt": ["Project", "Arn"]}}}
    return yaml.safe_dump({"Resources": resources, "Outputs": outputs})


@pytest.fixture
def cfn(moto_aws):
    cloudformation_fixes.apply()
    return boto3.client("cloudformation", region_name=REGION)


def test_the_stack_creates_then_updates_the_project_and_pipeline(cfn):
    cfn.create_stack(StackName="s", TemplateBody=template("Build", "build"))
    outputs = cfn.describe_stacks(StackName="s")["Stacks"][0]["Outputs"]
    assert outputs == [
        {"OutputKey": "ProjectArn", "OutputValue": "arn:aws:codebuild:us-east-1:123456789012:project/proj"}
    ]
    pipeline = boto3.client("codepipeline", region_name=REGION).get_pipeline(name="pipe")["pipeline"]
    action = pipeline["stages"][1]["actions"][0]
    assert action["configuration"] == {"ProjectName": "proj"}
    assert action["runOrder"] == 2 and action["inputArtifacts"] == [{"name": "Src"}]
    assert pipeline["stages"][0]["actions"][0]["configuration"]["PollForSourceChanges"] == "false"
    assert (pipeline["pipelineType"], pipeline["executionMode"]) == ("V2", "QUEUED")
    assert pipeline["variables"] == [{"name": "Arn", "defaultValue": "none"}]
    project = boto3.client("codebuild", region_name=REGION).batch_get_projects(names=["proj"])["projects"][0]
    assert project["source"] == {"type": "CODEPIPELINE", "buildspec": "buildspec.yml"}
    assert project["environment"]["environmentVariables"] == [{"name": "STAGE", "value": "build"}]

    cfn.update_stack(StackName="s", TemplateBody=template("Test", "test"))
    pipeline = boto3.client("codepipeline", region_name=REGION).get_pipeline(name="pipe")["pipeline"]
    assert (pipeline["version"], pipeline["stages"][1]["name"]) == (2, "Test")
    project = boto3.client("codebuild", region_name=REGION).batch_get_projects(names=["proj"])["projects"][0]
    assert project["environment"]["environmentVariables"] == [{"name": "STAGE", "value": "test"}]


def test_a_declaration_codepipeline_refuses_fails_the_stack(cfn):
    cfn.create_stack(StackName="bad", TemplateBody=template("Build", "build", source_first=False))
    stack = cfn.describe_stacks(StackName="bad")["Stacks"][0]
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    reasons = json.dumps(cfn.describe_stack_events(StackName="bad")["StackEvents"], default=str)
    assert "The first stage must contain only source actions" in reasons
