"""Account quotas with AWS's defaults: Lambda's concurrency (and the unreserved minimum),
SageMaker endpoint instances; exceeding one answers as AWS does, Service Quotas tells the same."""

from __future__ import annotations

import boto3
import pytest
from moto.awslambda.models import LambdaBackend
from moto.cloudformation.models import Stack

from emulator import cloudformation_fixes
from emulator.context import Context
from emulator.endpoints import Endpoints
from emulator.protocol import ApiError
from emulator.quotas import AccountQuotas, lambda_concurrency
from emulator.quotas.service import ServiceQuotas
from pipelines.config import load_config
from pipelines.local_run import LOCAL_OVERRIDES
from pipelines.stack import TEMPLATE, StackError, deploy_stack
from tests.integration.conftest import CONFIG

REGION = "us-east-1"


@pytest.fixture
def default_account(moto_aws, monkeypatch):
    """moto's Lambda held to a new account's quotas (undone after the test)."""
    for name in ("create_function", "put_function_concurrency"):
        monkeypatch.setattr(LambdaBackend, name, getattr(LambdaBackend, name))
    for name in ("create_resources", "outputs", "exports"):
        monkeypatch.setattr(Stack, name, Stack.__dict__[name])
    quotas = AccountQuotas()
    lambda_concurrency.apply(quotas)
    cloudformation_fixes.apply()
    boto3.client("s3", region_name=REGION).create_bucket(Bucket="rtb-mlops-local")
    return quotas


def config():
    return load_config(CONFIG, LOCAL_OVERRIDES, environ={})


def test_a_stack_reserving_concurrency_fails_in_a_default_quota_account(default_account, monkeypatch, tmp_path):
    reserving = tmp_path / "template.yaml"
    reserving.write_text(
        TEMPLATE.read_text().replace(
            "      Timeout: 120\n", "      Timeout: 120\n      ReservedConcurrentExecutions: 1\n"
        )
    )
    monkeypatch.setattr("pipelines.stack.TEMPLATE", reserving)
    with pytest.raises(StackError) as err:
        deploy_stack(config(), timeout=30)
    assert "is ROLLBACK_COMPLETE" in str(err.value)
    assert "decreases account's UnreservedConcurrentExecution below its minimum value of [10]" in str(err.value)


def test_the_template_deploys_in_a_default_quota_account(default_account):
    outputs = deploy_stack(config(), timeout=30)
    assert outputs
    lam = boto3.client("lambda", region_name=REGION)
    function = lam.list_functions()["Functions"][0]["FunctionName"]
    with pytest.raises(lam.exceptions.InvalidParameterValueException, match=r"minimum value of \[10\]"):
        lam.put_function_concurrency(FunctionName=function, ReservedConcurrentExecutions=1)


def test_an_account_with_a_raised_quota_may_reserve_above_the_minimum():
    from emulator.quotas.limits import reservation_refusal

    raised = AccountQuotas({"Concurrent executions": 1000})
    assert reservation_refusal(raised, 900, 0) is None
    assert "minimum value of [100]" in reservation_refusal(raised, 901, 0)


def endpoint_config(sm, name: str, count: int, instance_type: str = "ml.m5.large") -> None:
    sm.create_model(ModelName=name, ExecutionRoleArn="arn:aws:iam::123456789012:role/r",
                    PrimaryContainer={"Image": "i", "ModelDataUrl": "s3://rtb-mlops-local/none.tar.gz"})  # fmt: skip
    sm.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": name,
                "InstanceType": instance_type,
                "InitialInstanceCount": count,
            }
        ],
    )


def test_an_endpoint_above_the_instance_quota_is_refused(moto_aws, tmp_path):
    sm = boto3.client("sagemaker", region_name=REGION)
    endpoints = Endpoints(Context("http://127.0.0.1:1", REGION, tmp_path), None, None, None, AccountQuotas())
    endpoint_config(sm, "big", 21)
    with pytest.raises(ApiError) as err:
        endpoints.create({"EndpointName": "big", "EndpointConfigName": "big"})
    assert err.value.code == "ResourceLimitExceeded"
    assert err.value.message.startswith(
        "The account-level service limit 'ml.m5.large for endpoint usage' is 20 Instances, with current"
        " utilization of 0 Instances and a request delta of 21 Instances."
    )


def test_instances_across_endpoints_count_every_active_fleet(moto_aws, tmp_path):
    sm = boto3.client("sagemaker", region_name=REGION)
    backend_endpoints = Endpoints(Context("http://127.0.0.1:1", REGION, tmp_path), None, None, None, AccountQuotas())
    endpoint_config(sm, "a", 12, "ml.c5.large")
    endpoint_config(sm, "b", 9, "ml.m5.large")
    sm.create_endpoint(EndpointName="a", EndpointConfigName="a")  # moto's own: InService at once
    with pytest.raises(ApiError, match="'Number of instances across active endpoints' is 20 Instances, with current"
                       " utilization of 12 Instances and a request delta of 9 Instances"):  # fmt: skip
        backend_endpoints.create({"EndpointName": "b", "EndpointConfigName": "b"})


def test_service_quotas_answer_the_numbers_enforced():
    api = ServiceQuotas(AccountQuotas({"ml.m5.large for endpoint usage": 40}), "123456789012", REGION)
    lam = api.get({"ServiceCode": "lambda", "QuotaCode": "L-B99A9384"})["Quota"]
    assert (lam["QuotaName"], lam["Value"]) == ("Concurrent executions", 10)
    names = {}
    token = None
    while True:
        page = api.list({"ServiceCode": "sagemaker", **({"NextToken": token} if token else {})})
        names.update({q["QuotaName"]: q["Value"] for q in page["Quotas"]})
        token = page.get("NextToken")
        if not token:
            break
    assert names["ml.m5.large for endpoint usage"] == 40
    assert names["Number of instances across active endpoints"] == 20
    default = api.get_default({"ServiceCode": "sagemaker", "QuotaCode": "L-4D27DFDD"})["Quota"]
    assert (default["QuotaName"], default["Value"]) == ("ml.c5.large for endpoint usage", 20)


def test_quotas_can_be_configured_or_turned_off(monkeypatch):
    monkeypatch.setenv("RTB_EMULATOR_QUOTAS", "off")
    assert not AccountQuotas.from_environment().enforced
    monkeypatch.setenv("RTB_EMULATOR_QUOTAS", '{"Concurrent executions": 50}')
    assert AccountQuotas.from_environment().value("Concurrent executions") == 50
    with pytest.raises(ValueError, match="no quota named 'Concurrent things'"):
        AccountQuotas({"Concurrent things": 1})
