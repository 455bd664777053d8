"""One deploy path per endpoint (config deploy.path): the deploy Lambda skips approvals the
CodePipeline path owns and its template disables its rule; the pipeline's start function passes
the approved ARN as the V2 variable; the staging deploy keeps its own scaling bounds."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from deploy_lambda import start_pipeline
from deploy_lambda.handler import handler
from deploy_lambda.limits import within_bounds
from model_registry import packages
from pipelines.cli import main
from pipelines.config import load_config
from pipelines.deploy_settings import lambda_settings, stack_parameters
from tests.conftest import REPO
from tests.unit.recommender_jobs import RecommenderJobs
from tests.unit.test_deploy_cli import SETS
from tests.unit.test_deploy_lambda import ACCOUNT, CONTEXT, DEFAULT_REC, REGION, approval_event, aws, rec, recommended  # noqa: F401
from tests.unit.test_registry import registration

PIPELINE = "rtb-bid-filter-model-deploy"


def test_the_lambda_skips_approvals_of_an_endpoint_codepipeline_deploys(aws, monkeypatch):  # noqa: F811 - the fixture
    monkeypatch.setenv("DEPLOY_PATH", "codepipeline")
    arn = packages.register_version(aws.sm, registration())
    recommended(aws, arn, DEFAULT_REC)
    packages.set_approval(aws.sm, arn, "Approved", "ok")
    out = handler(approval_event(1), CONTEXT)
    assert out["action"] == "skipped" and "deployed by CodePipeline" in out["detail"]
    assert [op for op in aws.calls.ops if op.startswith(("Create", "Update"))] == []


def test_config_path_reaches_the_lambda_stack_and_staging_settings():
    cfg = load_config(str(REPO / "config/pipeline.yaml"), ["deploy.path=codepipeline"], environ={})
    assert stack_parameters(cfg, "b", "k")["DeployPath"] == "codepipeline"
    staging = lambda_settings(cfg, staging=True)
    assert staging.endpoint_name == "rtb-bid-filter-staging" and staging.instance_bounds == (1, 2)
    assert lambda_settings(cfg).instance_bounds is None


def test_staging_bounds_hold_the_count_and_replace_the_recommendations():
    held = within_bounds(rec(count=4), (1, 2))
    assert (held.recommended_instance_count, held.min_instance_count, held.max_instance_count) == (2, 1, 2)
    assert within_bounds(rec(count=4), None) == rec(count=4)


def test_deploy_staging_creates_the_staging_endpoint_within_its_bounds(moto_aws, monkeypatch, capsys):
    sm = boto3.client("sagemaker", region_name=REGION)
    packages.ensure_group(sm, "rtb-bid-filter", "RTB")
    arn = packages.register_version(sm, registration())
    recommended(SimpleNamespace(sm=sm, jobs=RecommenderJobs().install(monkeypatch)), arn, DEFAULT_REC)
    packages.set_approval(sm, arn, "Approved", "ok")
    assert main(["deploy", *SETS, "--model-package-arn", arn, "--staging", "--wait"]) == 0
    lines = [json.loads(ln) for ln in capsys.readouterr().out.splitlines() if ln.startswith("{")]
    assert [ln["action"] for ln in lines] == ["created", "autoscaling"]
    config = sm.describe_endpoint(EndpointName="rtb-bid-filter-staging")["EndpointConfigName"]
    variant = sm.describe_endpoint_config(EndpointConfigName=config)["ProductionVariants"][0]
    assert config == "rtb-bid-filter-staging-rtb-bid-filter-v1" and variant["InitialInstanceCount"] == 2
    aas = boto3.client("application-autoscaling", region_name=REGION)
    target = aas.describe_scalable_targets(
        ServiceNamespace="sagemaker", ResourceIds=["endpoint/rtb-bid-filter-staging/variant/AllTraffic"]
    )["ScalableTargets"][0]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (1, 2)
    with pytest.raises(ClientError, match="Could not find endpoint"):  # production untouched
        sm.describe_endpoint(EndpointName="rtb-bid-filter")


def _start(event: dict, expected_variables: list[dict] | None):
    cp = boto3.client("codepipeline", region_name=REGION)
    with Stubber(cp) as stub:
        if expected_variables is not None:
            stub.add_response(
                "start_pipeline_execution",
                {"pipelineExecutionId": "3137f7cb-7cf7-4aee-a7d8-6b57d0c11a24"},
                {"name": PIPELINE, "variables": expected_variables, "clientRequestToken": event["id"]},
            )
        original = start_pipeline.client
        start_pipeline.client = lambda service, region=None: cp
        try:
            return start_pipeline.start(event, PIPELINE, "rtb-bid-filter", ACCOUNT, REGION)
        finally:
            start_pipeline.client = original
            stub.assert_no_pending_responses()


def test_the_start_function_carries_the_approved_arn_as_the_pipeline_variable():
    event = approval_event(7)
    out = _start(event, [{"name": "ModelPackageArn", "value": event["detail"]["ModelPackageArn"]}])
    assert out == {"action": "started", "pipeline": PIPELINE, "execution": "3137f7cb-7cf7-4aee-a7d8-6b57d0c11a24",
                   "package": event["detail"]["ModelPackageArn"]}  # fmt: skip


@pytest.mark.parametrize(
    ("event", "fragment"),
    [
        (approval_event(2, "Rejected"), "only an approval starts"),
        ({**approval_event(2), "account": "999999999999"}, "not this function's account"),
        (
            {**approval_event(2), "detail": {**approval_event(2)["detail"], "ModelPackageGroupName": "other"}},
            "is not 'rtb-bid-filter'",
        ),
    ],
)
def test_the_start_function_starts_nothing_for_other_events(event, fragment):
    out = _start(event, None)
    assert out["action"] == "skipped" and fragment in out["detail"]


@pytest.fixture
def account(moto_aws, monkeypatch, example_model):
    from moto.cloudformation.models import Stack

    from emulator import cloudformation_fixes

    for name in ("create_resources", "outputs", "exports"):
        monkeypatch.setattr(Stack, name, Stack.__dict__[name])
    cloudformation_fixes.apply()
    boto3.client("s3", region_name=REGION).create_bucket(Bucket="rtb-mlops-local")
    return example_model


def _local(example_model, *overrides: str):
    from pipelines.local_run import LOCAL_OVERRIDES

    inputs = [f"model.artifact={example_model.model_path}", f"model.sample_payload={example_model.payload_path}"]
    return load_config(str(REPO / "config/pipeline.yaml"), [*LOCAL_OVERRIDES, *inputs, *overrides], environ={})


def test_stack_deploy_cicd_refuses_the_lambda_path(account):
    from pipelines.config import ConfigError
    from pipelines.stack import deploy_cicd_stack

    with pytest.raises(ConfigError, match="deploy.path is 'lambda'"):
        deploy_cicd_stack(_local(account), b"zip", timeout=30)


def test_stack_deploy_cicd_disables_the_lambdas_rule_and_ships_the_source(account):
    from pipelines.stack import deploy_cicd_stack

    outputs = deploy_cicd_stack(_local(account, "deploy.path=codepipeline"), b"source zip", timeout=30)
    s3 = boto3.client("s3", region_name=REGION)
    assert (
        s3.get_object(Bucket=outputs["PipelineBucketName"], Key="source/rtb-mlops.zip")["Body"].read() == b"source zip"
    )
    events = boto3.client("events", region_name=REGION)
    rules = {}  # (function, detail-type) -> (state, pattern)
    for rule in events.list_rules()["Rules"]:
        function = events.list_targets_by_rule(Rule=rule["Name"])["Targets"][0]["Arn"].rsplit(":", 1)[-1]
        pattern = json.loads(rule["EventPattern"])
        rules[function, pattern["detail-type"][0]] = (rule["State"], pattern)
    lambda_state, lambda_pattern = rules["rtb-bid-filter-deploy", "SageMaker Model Package State Change"]
    start_state, start_pattern = rules["rtb-bid-filter-start-deploy", "SageMaker Model Package State Change"]
    # Both rules match the group's approvals; only the CodePipeline path's is enabled.
    assert lambda_pattern["detail"]["ModelPackageGroupName"] == start_pattern["detail"]["ModelPackageGroupName"]
    assert (lambda_state, start_state) == ("DISABLED", "ENABLED")


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        (["deploy.path=both"], "Input should be 'lambda' or 'codepipeline'"),
        (["deploy.staging_min_instances=3", "deploy.staging_max_instances=2"], "staging_max_instances >= staging_min"),
        (["deploy.path=codepipeline", f"deploy.endpoint_name={'e' * 56}"], "leaves room for its staging endpoint"),
    ],
)
def test_the_config_refuses_a_path_or_staging_bounds_aws_would_not_take(overrides, fragment):
    from pipelines.config import ConfigError

    with pytest.raises(ConfigError, match=re.escape(fragment)):
        load_config(str(REPO / "config/pipeline.yaml"), overrides, environ={})
    # The lambda path needs no room for a staging endpoint.
    load_config(str(REPO / "config/pipeline.yaml"), [f"deploy.endpoint_name={'e' * 56}"], environ={})
