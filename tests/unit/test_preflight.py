"""The preflight checks against botocore Stubber, with shapes from the STS, IAM, S3, Service
Quotas and CloudFormation API references."""

from datetime import UTC, datetime

import boto3
import pytest
from botocore.stub import ANY, Stubber

from pipelines import preflight as pf

REGION = "us-east-1"
ROLE = "arn:aws:iam::111122223333:role/rtb-mlops-sagemaker-execution"


def _client(service: str):
    return boto3.client(service, region_name=REGION, aws_access_key_id="x", aws_secret_access_key="y")


def _result(action: str, resource: str, decision: str) -> dict:
    return {
        "EvalActionName": action,
        "EvalResourceName": resource,
        "EvalDecision": decision,
        "MatchedStatements": [],
        "MissingContextValues": [],
    }


def test_identity_names_the_caller_and_fails_without_credentials():
    sts = _client("sts")
    with Stubber(sts) as stub:
        stub.add_response(
            "get_caller_identity",
            {"UserId": "AIDAEXAMPLE", "Account": "111122223333", "Arn": "arn:aws:iam::111122223333:user/ml"},
        )
        stub.add_client_error("get_caller_identity", "InvalidClientTokenId", "The security token is invalid.", 403)
        ok, arn = pf.identity(sts)
        bad, none = pf.identity(sts)
    assert (ok.status, arn) == (pf.Status.PASS, "arn:aws:iam::111122223333:user/ml")
    assert (bad.status, none) == (pf.Status.FAIL, "")
    assert "InvalidClientTokenId" in bad.detail and "credentials" in bad.fix


def test_region_must_offer_sagemaker():
    assert pf.region("eu-west-1").status is pf.Status.PASS
    assert pf.region("xx-nowhere-1").status is pf.Status.FAIL


def test_simulation_names_each_denied_call_with_its_resource():
    iam = _client("iam")
    package = "arn:aws:sagemaker:us-east-1:111122223333:model-package/rtb-bid-filter/1"
    needed = [
        pf.Needed("sagemaker:CreateModelPackage", package),
        pf.Needed("iam:PassRole", ROLE, {"iam:PassedToService": ["sagemaker.amazonaws.com"]}),
    ]
    with Stubber(iam) as stub:
        stub.add_response(
            "simulate_principal_policy",
            {"EvaluationResults": [_result("sagemaker:CreateModelPackage", package, "implicitDeny")]},
            {
                "PolicySourceArn": ROLE,
                "ActionNames": ["sagemaker:CreateModelPackage"],
                "ResourceArns": [package],
                "ContextEntries": [],
            },
        )
        stub.add_response(
            "simulate_principal_policy",
            {"EvaluationResults": [_result("iam:PassRole", ROLE, "allowed")]},
            {
                "PolicySourceArn": ROLE,
                "ActionNames": ["iam:PassRole"],
                "ResourceArns": [ROLE],
                "ContextEntries": [
                    {
                        "ContextKeyName": "iam:PassedToService",
                        "ContextKeyValues": ["sagemaker.amazonaws.com"],
                        "ContextKeyType": "stringList",
                    }
                ],
            },
        )
        res = pf.simulate(iam, ROLE, needed, "execution role policy", "grant it")
    assert res.status is pf.Status.FAIL
    assert res.detail == f"denied: sagemaker:CreateModelPackage on {package} (implicitDeny)"
    assert res.fix == "grant it"


def test_missing_role_and_bucket_fail_with_the_fix():
    iam, s3 = _client("iam"), _client("s3")
    with Stubber(iam) as istub, Stubber(s3) as sstub:
        istub.add_client_error("get_role", "NoSuchEntity", "The role with name x cannot be found.", 404)
        sstub.add_client_error("head_bucket", "404", "Not Found", 404)
        role = pf.role_exists(iam, ROLE, "execution role")
        bucket = pf.bucket(s3, "rtb-mlops-bucket")
    assert role.status is pf.Status.FAIL and "stack deploy" in role.fix
    assert bucket.status is pf.Status.FAIL and "rtb-mlops-bucket" in bucket.fix


def _quota(instance_type: str, value: float) -> dict:
    return {
        "ServiceCode": "sagemaker",
        "ServiceName": "Amazon SageMaker",
        "QuotaArn": f"arn:aws:servicequotas:us-east-1:111122223333:sagemaker/L-{abs(hash(instance_type)) % 10**8:08d}",
        "QuotaCode": f"L-{abs(hash(instance_type)) % 10**8:08d}",
        "QuotaName": f"{instance_type} for endpoint usage",
        "Value": value,
        "Unit": "None",
        "Adjustable": True,
        "GlobalQuota": False,
    }


def test_quotas_cover_the_peak_warn_below_it_and_fail_below_the_minimum_or_when_not_offered():
    sq = _client("service-quotas")
    with Stubber(sq) as stub:
        stub.add_response(
            "list_service_quotas",
            {"Quotas": [_quota("ml.c5.large", 200.0), _quota("ml.c5.xlarge", 20.0), _quota("ml.m5.large", 1.0)]},
            {"ServiceCode": "sagemaker"},
        )
        results = pf.instance_quotas(sq, ["ml.c5.large", "ml.c5.xlarge", "ml.m5.large", "ml.p2.xlarge"], 2, 120)
    assert [r.status for r in results] == [pf.Status.PASS, pf.Status.WARN, pf.Status.FAIL, pf.Status.FAIL]
    assert "'SageMaker: ml.c5.xlarge for endpoint usage' to 120" in results[1].fix
    assert "not offered" in results[3].detail


def test_deploy_stack_gives_its_function_role():
    cfn, iam = _client("cloudformation"), _client("iam")
    now = datetime(2026, 11, 30, tzinfo=UTC)
    role_arn = "arn:aws:iam::111122223333:role/rtb-bid-filter-deploy-DeployFunctionRole-ABC"
    with Stubber(cfn) as cstub, Stubber(iam) as istub:
        cstub.add_response(
            "describe_stacks",
            {"Stacks": [{"StackName": "rtb-bid-filter-deploy", "CreationTime": now, "StackStatus": "UPDATE_COMPLETE"}]},
        )
        cstub.add_response(
            "describe_stack_resource",
            {
                "StackResourceDetail": {
                    "LogicalResourceId": "DeployFunctionRole",
                    "PhysicalResourceId": "rtb-bid-filter-deploy-DeployFunctionRole-ABC",
                    "ResourceType": "AWS::IAM::Role",
                    "LastUpdatedTimestamp": now,
                    "ResourceStatus": "CREATE_COMPLETE",
                }
            },
            {"StackName": "rtb-bid-filter-deploy", "LogicalResourceId": "DeployFunctionRole"},
        )
        istub.add_response(
            "get_role",
            {
                "Role": {
                    "Path": "/",
                    "RoleName": "rtb-bid-filter-deploy-DeployFunctionRole-ABC",
                    "RoleId": "AROAEXAMPLEID1234567",
                    "Arn": role_arn,
                    "CreateDate": now,
                }
            },
            {"RoleName": ANY},
        )
        cstub.add_client_error("describe_stacks", "ValidationError", "Stack with id x does not exist", 400)
        ok, arn = pf.stack_role(cfn, iam, "rtb-bid-filter-deploy", "DeployFunctionRole")
        missing, none = pf.stack_role(cfn, iam, "x", "DeployFunctionRole")
    assert (ok.status, arn) == (pf.Status.PASS, role_arn)
    assert (missing.status, none) == (pf.Status.FAIL, "")


@pytest.mark.parametrize(("version", "status"), [("3.0-5", pf.Status.PASS), ("0.1-9", pf.Status.FAIL)])
def test_images_are_looked_up_offline_for_the_region(version, status):
    assert pf.images(REGION, version, "1.4-2-py312").status is status
