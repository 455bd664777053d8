"""The emulator's IAM: identity policies evaluated on action, resource ARN and conditions, explicit
Deny, the checks Application Auto Scaling makes with the caller's permissions, and refusals worded
as AWS words them. Runs on moto's IAM/STS/SageMaker state in this process."""

from __future__ import annotations

import json

import boto3
import pytest
import yaml

from emulator.iam import principals
from emulator.iam.enforce import Enforcer, error_response
from emulator.iam.policy import Check, Effect, evaluate
from tests.unit.test_template import TEMPLATE, _CfnLoader

ACCOUNT = "123456789012"
REGION = "us-east-1"
LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def _doc(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def test_resource_arn_decides_not_just_the_action():
    doc = _doc(
        {
            "Effect": "Allow",
            "Action": "sagemaker:CreateEndpointConfig",
            "Resource": "arn:aws:sagemaker:us-east-1:1:endpoint-config/rtb-*",
        }
    )
    mine = Check("sagemaker:CreateEndpointConfig", "arn:aws:sagemaker:us-east-1:1:endpoint-config/rtb-v1")
    other = Check("sagemaker:CreateEndpointConfig", "arn:aws:sagemaker:us-east-1:1:endpoint-config/other-v1")
    assert evaluate([doc], mine) is Effect.ALLOW
    assert evaluate([doc], other) is Effect.IMPLICIT_DENY


def test_an_explicit_deny_wins_over_any_allow():
    allow = _doc({"Effect": "Allow", "Action": "sagemaker:*", "Resource": "*"})
    deny = _doc({"Effect": "Deny", "Action": "sagemaker:Delete*", "Resource": "*"})
    assert evaluate([allow, deny], Check("sagemaker:DeleteEndpoint", "arn:aws:sagemaker:us-east-1:1:endpoint/x")) is (
        Effect.DENY
    )


def test_pass_role_holds_to_the_service_it_is_passed_to():
    doc = _doc(
        {
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": "arn:aws:iam::1:role/exec",
            "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
        }
    )
    to = lambda service: Check("iam:PassRole", "arn:aws:iam::1:role/exec", {"iam:PassedToService": [service]})  # noqa: E731
    assert evaluate([doc], to("sagemaker.amazonaws.com")) is Effect.ALLOW
    assert evaluate([doc], to("lambda.amazonaws.com")) is Effect.IMPLICIT_DENY
    assert evaluate([doc], Check("iam:PassRole", "arn:aws:iam::1:role/exec")) is Effect.IMPLICIT_DENY


def _deploy_role_statements(drop_sid: str | None = None, kms: bool = False) -> list[dict]:
    """The deploy Lambda's role policy from the template, with the account's values filled in."""
    text = TEMPLATE.read_text()
    template = yaml.load(text, Loader=_CfnLoader)  # noqa: S506 - a SafeLoader subclass
    role = template["Resources"]["DeployFunctionRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    values = {"AWS::Partition": "aws", "AWS::Region": REGION, "AWS::AccountId": ACCOUNT, "EndpointName": "rtb"}
    values["ModelPackageGroupName"] = "rtb"

    def fill(node):
        if isinstance(node, dict) and set(node) == {"Sub"}:
            out = node["Sub"]
            for k, v in values.items():
                out = out.replace("${" + k + "}", v)
            return out
        if isinstance(node, dict) and set(node) in ({"Ref"}, {"GetAtt"}, {"If"}):
            return None
        if isinstance(node, dict):
            return {k: fill(v) for k, v in node.items()}
        if isinstance(node, list):
            return [fill(v) for v in node]
        return node

    # The conditional statements (!If) as CloudFormation resolves them with or without a key.
    chosen = [s["If"][1] for s in role["Statement"] if "If" in s and kms]
    statements = [fill(s) for s in role["Statement"] + chosen if isinstance(s, dict) and "Sid" in s]
    return [s for s in statements if s["Sid"] != drop_sid and s.get("Resource") is not None]


@pytest.fixture
def deploy_role_caller(moto_aws):
    """Signs requests as the deploy Lambda does: temporary credentials of its function role."""

    def make(statements: list[dict]) -> principals.Credentials:
        iam = boto3.client("iam")
        name = f"deploy-{len(iam.list_roles()['Roles'])}"
        arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))["Role"]["Arn"]
        iam.put_role_policy(RoleName=name, PolicyName="deploy", PolicyDocument=json.dumps(_doc(*statements)))
        return principals.assume(arn, "lambda.amazonaws.com", "rtb-deploy", ACCOUNT, REGION)

    return make


def _environ(creds: principals.Credentials, service: str, target: str, params: dict) -> tuple[dict, bytes]:
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/",
        "HTTP_X_AMZ_TARGET": target,
        "HTTP_AUTHORIZATION": f"AWS4-HMAC-SHA256 Credential={creds.access_key_id}/20261130/{REGION}/{service}/aws4_request",
        "HTTP_X_AMZ_SECURITY_TOKEN": creds.session_token,
    }
    return environ, json.dumps(params).encode()


REGISTER = {
    "ServiceNamespace": "sagemaker",
    "ResourceId": "endpoint/rtb/variant/AllTraffic",
    "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
    "MinCapacity": 1,
    "MaxCapacity": 4,
}


def test_autoscaling_checks_the_caller_for_the_variant_update_as_aws_does(deploy_role_caller):
    # Before issue 12's fix the role had no UpdateEndpointWeightsAndCapacities: AWS refuses the registration.
    before = deploy_role_caller(_deploy_role_statements(drop_sid="AutoscalingChecksTheCallerForTheVariant"))
    enforcer = Enforcer(ACCOUNT, enabled=True)
    refusal = enforcer.authorize(
        *_environ(before, "application-autoscaling", "AnyScaleFrontendService.RegisterScalableTarget", REGISTER)
    )
    assert refusal is not None and refusal.code == "AccessDeniedException"
    assert "is not authorized to perform: sagemaker:" in refusal.message
    assert f"on resource: arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/rtb" in refusal.message
    status, _, body = error_response(refusal)
    assert (status, json.loads(body)["__type"]) == (400, "AccessDeniedException")

    after = deploy_role_caller(_deploy_role_statements())
    assert (
        enforcer.authorize(
            *_environ(after, "application-autoscaling", "AnyScaleFrontendService.RegisterScalableTarget", REGISTER)
        )
        is None
    )


def test_target_tracking_needs_the_alarms_it_creates_for_the_caller(deploy_role_caller):
    policy = {**REGISTER, "PolicyName": "p", "PolicyType": "TargetTrackingScaling"}
    before = deploy_role_caller(_deploy_role_statements(drop_sid="TargetTrackingAlarmsOfTheVariant"))
    refusal = Enforcer(ACCOUNT, enabled=True).authorize(
        *_environ(before, "application-autoscaling", "AnyScaleFrontendService.PutScalingPolicy", policy)
    )
    assert refusal is not None
    assert (
        f"on resource: arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:TargetTracking-endpoint/rtb/variant/AllTraffic-Alarm"
        in (refusal.message)
    )


def test_an_unknown_key_is_refused_as_an_invalid_token(moto_aws):
    creds = principals.Credentials("AKIAUNKNOWN000000000", "x")
    environ, body = _environ(creds, "sagemaker", "SageMaker.ListEndpoints", {})
    environ.pop("HTTP_X_AMZ_SECURITY_TOKEN")
    refusal = Enforcer(ACCOUNT, enabled=True).authorize(environ, body)
    assert refusal is not None and refusal.code == "UnrecognizedClientException"


def test_a_service_may_assume_only_a_role_that_trusts_it(moto_aws):
    iam = boto3.client("iam")
    arn = iam.create_role(RoleName="fn", AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))["Role"]["Arn"]
    with pytest.raises(principals.NotTrusted, match="sagemaker.amazonaws.com"):
        principals.assume(arn, "sagemaker.amazonaws.com", "s", ACCOUNT, REGION)


def test_a_job_reads_its_model_and_pulls_its_image_as_the_role_it_was_given(moto_aws):
    from emulator.iam import on_behalf

    trust = {
        **LAMBDA_TRUST,
        "Statement": [{**LAMBDA_TRUST["Statement"][0], "Principal": {"Service": "sagemaker.amazonaws.com"}}],
    }
    iam = boto3.client("iam")
    arn = iam.create_role(RoleName="exec", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    reads = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/rtb-mlops/*"}
    iam.put_role_policy(RoleName="exec", PolicyName="p", PolicyDocument=json.dumps(_doc(reads)))
    image = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:3.0-5"
    wanted = [
        Check("s3:GetObject", on_behalf.s3_object_arn("s3://bucket/rtb-mlops/inputs/model.tar.gz")),
        Check("ecr:BatchGetImage", on_behalf.ecr_repository_arn(image)),
    ]
    refused = on_behalf.refused_to_role(arn, "job", wanted, ACCOUNT, REGION)
    assert refused is not None
    assert refused.endswith(
        "ecr:BatchGetImage on resource: arn:aws:ecr:us-east-1:683313688378:repository/sagemaker-xgboost"
        " because no identity-based policy allows the ecr:BatchGetImage action"
    )
    assert on_behalf.refused_to_role(arn, "job", wanted[:1], ACCOUNT, REGION) is None


def _signed(service: str, method: str, path: str, query: str = "") -> dict:
    auth = f"AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20261130/{REGION}/{service}/aws4_request, SignedHeaders=host"
    return {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query, "HTTP_AUTHORIZATION": auth}


@pytest.mark.parametrize(
    ("environ", "body", "action", "resource"),
    [
        (
            _signed("s3", "PUT", "/bucket/rtb-mlops/code/x.zip"),
            b"",
            "s3:PutObject",
            "arn:aws:s3:::bucket/rtb-mlops/code/x.zip",
        ),
        (_signed("s3", "HEAD", "/bucket"), b"", "s3:ListBucket", "arn:aws:s3:::bucket"),
        (
            _signed("lambda", "POST", "/2015-03-31/functions/rtb-deploy/invocations"),
            b"{}",
            "lambda:InvokeFunction",
            f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:rtb-deploy",
        ),
        (
            _signed("iam", "POST", "/"),
            b"Action=GetRole&RoleName=exec&Version=2010-05-08",
            "iam:GetRole",
            f"arn:aws:iam::{ACCOUNT}:role/exec",
        ),
        (
            _signed("sagemaker", "POST", "/endpoints/Rtb/invocations"),
            b"1,2",
            "sagemaker:InvokeEndpoint",
            f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/rtb",  # SageMaker ARNs are lowercase
        ),
        (
            {**_signed("ecr", "POST", "/"), "HTTP_X_AMZ_TARGET": "AmazonEC2ContainerRegistry_V20150921.DescribeImages"},
            b'{"registryId": "210987654321", "repositoryName": "rtb-mlops-serving", "imageIds": [{"imageTag": "v1"}]}',
            "ecr:DescribeImages",
            f"arn:aws:ecr:{REGION}:210987654321:repository/rtb-mlops-serving",  # the registry's account
        ),
    ],
)
def test_each_protocol_names_its_action_and_resource(environ, body, action, resource):
    from emulator.iam import requests

    request = requests.parse(environ, body)
    (check,) = requests.checks(request, ACCOUNT, "arn:aws:iam::123456789012:user/me")
    assert (check.action, check.resource) == (action, resource)


def test_pass_role_is_checked_for_the_role_a_request_hands_over():
    from emulator.iam import requests

    role = f"arn:aws:iam::{ACCOUNT}:role/exec"
    environ = {**_signed("sagemaker", "POST", "/"), "HTTP_X_AMZ_TARGET": "SageMaker.CreateModel"}
    body = json.dumps({"ModelName": "m", "ExecutionRoleArn": role}).encode()
    checks = requests.checks(requests.parse(environ, body), ACCOUNT, "me")
    assert [(c.action, c.resource) for c in checks] == [
        ("sagemaker:CreateModel", f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model/m"),
        ("iam:PassRole", role),
    ]
    assert checks[1].context["iam:PassedToService"] == ["sagemaker.amazonaws.com"]


def test_a_volume_key_needs_the_grant_sagemaker_makes_as_the_caller(deploy_role_caller):
    config = {
        "EndpointConfigName": "rtb-v1",
        "ProductionVariants": [{"VariantName": "AllTraffic", "ModelName": "rtb-v1"}],
        "KmsKeyId": "1234abcd-12ab-34cd-56ef-1234567890ab",
    }
    key = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    without = deploy_role_caller(_deploy_role_statements())
    refusal = Enforcer(ACCOUNT, enabled=True).authorize(
        *_environ(without, "sagemaker", "SageMaker.CreateEndpointConfig", config)
    )
    assert refusal is not None and f"kms:CreateGrant on resource: {key}" in refusal.message
    with_key = deploy_role_caller(_deploy_role_statements(kms=True))
    assert (
        Enforcer(ACCOUNT, enabled=True).authorize(
            *_environ(with_key, "sagemaker", "SageMaker.CreateEndpointConfig", config)
        )
        is None
    )
