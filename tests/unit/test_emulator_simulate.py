"""The emulator's iam:SimulatePrincipalPolicy: the role's policies evaluated per action, resource
and context key, in the query protocol's XML shape."""

import json
import re
from urllib.parse import urlencode

import boto3
from moto import mock_aws

from emulator.iam import simulate

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/r"
POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/p/*"},
        {
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": ROLE,
            "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
        },
    ],
}


def _body(action: str, resource: str, context: dict[str, str] | None = None, arn: str = ROLE) -> bytes:
    form = {"Action": "SimulatePrincipalPolicy", "Version": "2010-05-08", "PolicySourceArn": arn}
    form |= {"ActionNames.member.1": action, "ResourceArns.member.1": resource}
    for i, (k, v) in enumerate((context or {}).items(), 1):
        form |= {
            f"ContextEntries.member.{i}.ContextKeyName": k,
            f"ContextEntries.member.{i}.ContextKeyValues.member.1": v,
        }
    return urlencode(form).encode()


def _decision(body: bytes) -> str:
    status, _, xml = simulate.answer(body, ACCOUNT)
    assert status == 200
    return re.search(rb"<EvalDecision>(\w+)</EvalDecision>", xml).group(1).decode()


@mock_aws
def test_decisions_follow_resources_and_condition_keys():
    iam = boto3.client("iam", region_name="us-east-1")
    iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")
    iam.put_role_policy(RoleName="r", PolicyName="p", PolicyDocument=json.dumps(POLICY))

    assert simulate.is_simulation(_body("s3:GetObject", "*"))
    assert _decision(_body("s3:GetObject", "arn:aws:s3:::b/p/k")) == "allowed"
    assert _decision(_body("s3:GetObject", "arn:aws:s3:::b/other/k")) == "implicitDeny"
    assert _decision(_body("iam:PassRole", ROLE, {"iam:PassedToService": "sagemaker.amazonaws.com"})) == "allowed"
    assert _decision(_body("iam:PassRole", ROLE, {"iam:PassedToService": "lambda.amazonaws.com"})) == "implicitDeny"
    status, _, xml = simulate.answer(_body("s3:GetObject", "*", arn=f"arn:aws:iam::{ACCOUNT}:role/none"), ACCOUNT)
    assert status == 404 and b"<Code>NoSuchEntity</Code>" in xml
