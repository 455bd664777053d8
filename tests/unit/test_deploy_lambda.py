"""The deploy Lambda against moto (with the emulator's corrections), fed real-shaped events."""

import copy
import dataclasses
import json
import logging
from types import SimpleNamespace

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError

from deploy_lambda import handler as handler_module
from deploy_lambda.deploy import EndpointBusy, NotDeployable, Outcome
from deploy_lambda.handler import handler
from deploy_lambda.limits import Refused
from deploy_lambda.settings import Settings, SettingsError
from model_registry import packages
from model_registry.contract import MissingRecommendation, Recommendation
from model_registry.names import resource_name
from tests.conftest import FIXTURES
from tests.unit.recommender_jobs import RecommenderJobs, job_for
from tests.unit.test_registry import registration

GROUP, ENDPOINT = "rtb-bid-filter", "rtb-bid-filter"
ACCOUNT, REGION = "123456789012", "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/rtb-mlops-sagemaker-execution"
CONTEXT = SimpleNamespace(invoked_function_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{ENDPOINT}-deploy")
TYPES = "ml.c5.large,ml.c5.xlarge,ml.c6i.large,ml.c6i.xlarge,ml.m5.large"
ENV = {
    "ENDPOINT_NAME": ENDPOINT,
    "MODEL_PACKAGE_GROUP_NAME": GROUP,
    "SAGEMAKER_EXECUTION_ROLE_ARN": ROLE,
    "ALLOWED_INSTANCE_TYPES": TYPES,
    "MAX_INSTANCES": "120",
}
WRITES = ("Create", "Update", "Put", "Register", "Deregister", "Delete")


def rec(instance="ml.c6i.large", count=4, target=32760) -> Recommendation:
    return Recommendation(f"{GROUP}-v1-default", f"{GROUP}-v1-default/00000001", instance, count, 46800, 2.0, 4.2e-8, 0.119, target, 2, 20, {"OMP_NUM_THREADS": "2"})  # fmt: skip


def recommended(aws, arn: str, recommendation: Recommendation) -> None:
    """What the Recommend step and the gate leave behind: the job, and the package's metadata."""
    name = f"{GROUP}-v{arn.rsplit('/', 1)[-1]}-default"
    recommendation = dataclasses.replace(
        recommendation, recommendation_job_name=name, recommendation_id=f"{name}/00000001"
    )
    aws.jobs.put(job_for(arn, recommendation))
    packages.update_metadata(aws.sm, arn, {**recommendation.to_properties(), "gate_decision": "passed"})


def approval_event(version: int, status: str = "Approved") -> dict:
    event = json.loads((FIXTURES / "events" / "model_package_approved.json").read_text())
    arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/{GROUP}/{version}"
    event["resources"] = [arn]
    event["detail"].update(ModelPackageArn=arn, ModelPackageVersion=version, ModelApprovalStatus=status)
    return event


def in_service_event() -> dict:
    return json.loads((FIXTURES / "events" / "endpoint_in_service.json").read_text())


class Calls:
    """Every AWS operation the handler's clients make, in order."""

    def __init__(self):
        self.ops: list[str] = []

    def writes(self) -> list[str]:
        return [op for op in self.ops if op.startswith(WRITES)]


@pytest.fixture
def aws(moto_aws, monkeypatch):
    for k, v in ENV.items():
        monkeypatch.setenv(k, v)
    calls = Calls()
    original = handler_module.client

    def recording_client(service, region=None):
        c = original(service, region)
        c.meta.events.register("before-call.*.*", lambda model, **_: calls.ops.append(model.name))
        return c

    monkeypatch.setattr(handler_module, "client", recording_client)
    sm = boto3.client("sagemaker", region_name=REGION)
    packages.ensure_group(sm, GROUP, "RTB")
    aas = boto3.client("application-autoscaling", region_name=REGION)
    return SimpleNamespace(sm=sm, calls=calls, aas=aas, jobs=RecommenderJobs().install(monkeypatch))


DEFAULT_REC = rec()


def add_version(aws, status="Approved", recommendation: Recommendation | None = DEFAULT_REC) -> str:
    arn = packages.register_version(aws.sm, registration())
    if recommendation is not None:
        recommended(aws, arn, recommendation)
    if status != "PendingManualApproval":
        packages.set_approval(aws.sm, arn, status, "test")
    return arn


def serving_config(aws) -> str:
    return aws.sm.describe_endpoint(EndpointName=ENDPOINT)["EndpointConfigName"]


def scaling(aws):
    rid = f"endpoint/{ENDPOINT}/variant/AllTraffic"
    targets = aws.aas.describe_scalable_targets(ServiceNamespace="sagemaker", ResourceIds=[rid])["ScalableTargets"]
    policies = aws.aas.describe_scaling_policies(ServiceNamespace="sagemaker", ResourceId=rid)["ScalingPolicies"]
    return targets, policies


# --- first deploy, autoscaling, duplicates ---------------------------------------------------


def test_first_deploy_creates_model_config_endpoint_and_alarms(aws):
    arn = add_version(aws)
    out = handler(approval_event(1), CONTEXT)
    assert out["action"] == "created" and out["version"] == 1
    name = resource_name(ENDPOINT, GROUP, 1)
    assert serving_config(aws) == name
    model = aws.sm.describe_model(ModelName=name)
    assert model["PrimaryContainer"] == {"ModelPackageName": arn, "Environment": {"OMP_NUM_THREADS": "2"}}
    variant = aws.sm.describe_endpoint_config(EndpointConfigName=name)["ProductionVariants"][0]
    assert (variant["InstanceType"], variant["InitialInstanceCount"]) == ("ml.c6i.large", 4)
    alarms = boto3.client("cloudwatch", region_name=REGION).describe_alarms()["MetricAlarms"]
    assert {a["AlarmName"] for a in alarms} == {
        f"{ENDPOINT}-5xx-errors", f"{ENDPOINT}-4xx-error-rate", f"{ENDPOINT}-model-latency"
    }  # fmt: skip
    assert (
        aws.calls.ops.index("CreateModel")
        < aws.calls.ops.index("CreateEndpointConfig")
        < aws.calls.ops.index("CreateEndpoint")
    )


def test_in_service_event_applies_the_planned_autoscaling(aws):
    add_version(aws)
    handler(approval_event(1), CONTEXT)
    out = handler(in_service_event(), CONTEXT)
    assert out["action"] == "autoscaling"
    targets, policies = scaling(aws)
    assert (targets[0]["MinCapacity"], targets[0]["MaxCapacity"]) == (2, 20)
    config = policies[0]["TargetTrackingScalingPolicyConfiguration"]
    assert config["TargetValue"] == 32760.0
    assert config["PredefinedMetricSpecification"] == {"PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"}
    assert (config["ScaleInCooldown"], config["ScaleOutCooldown"]) == (300, 60)
    aws.calls.ops.clear()
    assert handler(in_service_event(), CONTEXT)["action"] == "unchanged"
    assert aws.calls.writes() == []


def test_the_same_event_three_times_writes_once(aws):
    add_version(aws)
    handler(in_service_event(), CONTEXT)  # nothing there yet: skipped
    event = approval_event(1)
    outcomes = []
    for i in range(3):
        aws.calls.ops.clear()
        outcomes.append(handler(copy.deepcopy(event), CONTEXT)["action"])
        if i == 0:
            handler(in_service_event(), CONTEXT)
        else:
            assert aws.calls.writes() == [], aws.calls.ops
    assert outcomes == ["created", "unchanged", "unchanged"]
    assert len(aws.sm.list_endpoint_configs()["EndpointConfigs"]) == 1
    assert len(aws.sm.list_models()["Models"]) == 1


# --- ordering ----------------------------------------------------------------------------


def test_newer_version_replaces_by_blue_green(aws):
    add_version(aws)
    add_version(aws, recommendation=rec(count=6))
    handler(approval_event(1), CONTEXT)
    out = handler(approval_event(2), CONTEXT)
    assert out["action"] == "updated" and "canary" in out["detail"]
    assert serving_config(aws) == resource_name(ENDPOINT, GROUP, 2)


def test_older_approval_does_not_replace_the_newer_one(aws, caplog):
    add_version(aws)
    add_version(aws)
    handler(approval_event(2), CONTEXT)
    aws.calls.ops.clear()
    with caplog.at_level(logging.WARNING):
        out = handler(approval_event(1), CONTEXT)
    assert out["action"] == "skipped" and "v2 serves, newer than v1" in out["detail"]
    assert serving_config(aws) == resource_name(ENDPOINT, GROUP, 2)
    assert aws.calls.writes() == []
    assert "older version approved" in caplog.text


def test_instance_type_change_deregisters_autoscaling_before_the_update(aws):
    add_version(aws)
    add_version(aws, recommendation=rec(instance="ml.c5.xlarge", count=3))
    handler(approval_event(1), CONTEXT)
    handler(in_service_event(), CONTEXT)
    aws.calls.ops.clear()
    handler(approval_event(2), CONTEXT)
    ops = aws.calls.ops
    assert ops.index("DeregisterScalableTarget") < ops.index("UpdateEndpoint")
    assert scaling(aws) == ([], [])
    handler(in_service_event(), CONTEXT)
    assert scaling(aws)[0][0]["MaxCapacity"] == 20


# --- rejection -------------------------------------------------------------------------------


def test_rejecting_the_serving_version_rolls_back(aws):
    add_version(aws)
    v2 = add_version(aws)
    handler(approval_event(1), CONTEXT)
    handler(approval_event(2), CONTEXT)
    packages.set_approval(aws.sm, v2, "Rejected", "p99 regression in production")
    out = handler(approval_event(2, "Rejected"), CONTEXT)
    assert out["action"] == "rolled_back" and out["version"] == 1
    assert serving_config(aws) == resource_name(ENDPOINT, GROUP, 1)


def test_rejecting_another_version_changes_nothing(aws):
    v1 = add_version(aws)
    add_version(aws)
    handler(approval_event(2), CONTEXT)
    packages.set_approval(aws.sm, v1, "Rejected", "superseded")
    aws.calls.ops.clear()
    out = handler(approval_event(1, "Rejected"), CONTEXT)
    assert out["action"] == "skipped" and aws.calls.writes() == []


def test_no_approved_version_left_leaves_the_endpoint_and_says_so_loudly(aws, caplog):
    v1 = add_version(aws)
    handler(approval_event(1), CONTEXT)
    packages.set_approval(aws.sm, v1, "Rejected", "data leak found")
    with caplog.at_level(logging.ERROR):
        out = handler(approval_event(1, "Rejected"), CONTEXT)
    assert out["action"] == "no_rollback_target"
    assert serving_config(aws) == resource_name(ENDPOINT, GROUP, 1)
    assert "NO APPROVED VERSION LEFT" in caplog.text


def test_rollback_can_be_switched_off(aws, monkeypatch):
    add_version(aws)
    v2 = add_version(aws)
    handler(approval_event(1), CONTEXT)
    handler(approval_event(2), CONTEXT)
    packages.set_approval(aws.sm, v2, "Rejected", "x")
    monkeypatch.setenv("ROLLBACK_ON_REJECT", "false")
    assert handler(approval_event(2, "Rejected"), CONTEXT)["detail"] == "rollback on reject is off"


# --- bad input ---------------------------------------------------------------------------------


def _mutate(path: str, value):
    event = approval_event(1)
    node = event
    *parents, last = path.split(".")
    for key in parents:
        node = node[key]
    if value is _DELETE:
        del node[last]
    else:
        node[last] = value
    return event


_DELETE = object()


@pytest.mark.parametrize(
    ("event", "fragment"),
    [
        ("not an event", "is a str, not an EventBridge event object"),
        (None, "is a NoneType"),
        (_mutate("detail", _DELETE), "no 'detail' object"),
        (_mutate("detail", "oops"), "no 'detail' object"),
        (_mutate("source", "aws.s3"), "source 'aws.s3'"),
        (_mutate("detail-type", "SageMaker Model State Change"), "detail-type"),
        (_mutate("detail.ModelPackageGroupName", "another-group"), "group 'another-group'"),
        (_mutate("detail.ModelPackageArn", "arn:aws:sagemaker:us-east-1:999999999999:model-package/rtb-bid-filter/1"), "account 999999999999"),
        (_mutate("detail.ModelPackageArn", "arn:aws:sagemaker:eu-west-1:123456789012:model-package/rtb-bid-filter/1"), "region eu-west-1; this function deploys in account 123456789012, region us-east-1"),
        (_mutate("detail.ModelPackageArn", "arn:aws:sagemaker:us-east-1:123456789012:model-package/other/1"), "in group other"),
        (_mutate("detail.ModelPackageArn", 42), "not a versioned model package ARN"),
        (_mutate("account", "999999999999"), "event account '999999999999' is not this function's account 123456789012"),
        (_mutate("account", _DELETE), "event account None is not"),
        (_mutate("region", "eu-west-1"), "event region 'eu-west-1' is not this function's region us-east-1"),
        (_mutate("detail.ModelPackageVersion", "1"), "ModelPackageVersion '1' is not a positive integer"),
        (_mutate("detail.ModelPackageVersion", 2), "does not match the ARN's version 1"),
        (_mutate("detail.ModelApprovalStatus", "PendingManualApproval"), "nothing to deploy"),
    ],
)  # fmt: skip
def test_events_not_for_us_are_skipped_with_no_write(aws, event, fragment):
    add_version(aws)
    out = handler(event, CONTEXT)
    assert out == Outcome("skipped", ENDPOINT, detail=out["detail"]).to_dict(), out
    assert fragment in out["detail"], out
    assert aws.calls.writes() == []


@pytest.mark.parametrize(
    "created",
    [1764410400138, "1764410400138", "2026-11-29T10:00:00Z", "2026-11-29T10:00:00.123+00:00", "yesterday", 1e30, -1e30],
)
def test_creation_time_is_not_read(aws, created):
    add_version(aws)
    assert handler(_mutate("detail.CreationTime", created), CONTEXT)["action"] == "created"


def test_unknown_version_raises_with_no_write(aws):
    add_version(aws)
    with pytest.raises(ClientError, match="does not exist|not found|Could not find"):
        handler(approval_event(7), CONTEXT)
    assert aws.calls.writes() == []


def test_package_without_recommendation_names_the_keys_and_changes_nothing(aws):
    add_version(aws, recommendation=None)
    with pytest.raises(MissingRecommendation, match="recommended_instance_type"):
        handler(approval_event(1), CONTEXT)
    assert aws.calls.writes() == []


def test_package_no_longer_approved_is_not_deployed(aws):
    arn = add_version(aws)
    packages.set_approval(aws.sm, arn, "Rejected", "changed our mind")
    with pytest.raises(NotDeployable, match="is Rejected/Completed"):
        handler(approval_event(1), CONTEXT)
    assert aws.calls.writes() == []


# --- forged metadata: refused before any write, the key named -----------------------------------
# Whoever may call UpdateModelPackage can edit CustomerMetadataProperties after the Recommend step
# and the gate wrote them; each edit below is one an attacker (or a slip) could make.


def forge(aws, arn: str, **changes: str) -> None:
    packages.update_metadata(aws.sm, arn, changes)


def refused(aws, *fragments: str, event: dict | None = None) -> str:
    with pytest.raises(Refused) as caught:
        handler(event or approval_event(1), CONTEXT)
    assert aws.calls.writes() == [], aws.calls.ops
    for fragment in fragments:
        assert fragment in str(caught.value), str(caught.value)
    return str(caught.value)


@pytest.mark.parametrize(
    ("changes", "fragments"),
    [
        ({"recommended_instance_count": "1000000000"}, ["recommended_instance_count = 1000000000 is above this function's MAX_INSTANCES of 120"]),
        ({"recommended_instance_count": "1000000000", "max_instance_count": "1000000000"},
         ["recommended_instance_count = 1000000000 is above", "max_instance_count = 1000000000 is above"]),
        ({"recommended_instance_count": "21"}, ["recommended_instance_count = 21 is outside the package's own bounds min_instance_count..max_instance_count = 2..20"]),
        ({"recommended_instance_count": "1"}, ["recommended_instance_count = 1 is outside the package's own bounds"]),
        ({"max_instance_count": "121"}, ["max_instance_count = 121 is above this function's MAX_INSTANCES of 120"]),
        ({"recommended_instance_type": "ml.fake.large"}, ["recommended_instance_type = 'ml.fake.large' is not one of this function's ALLOWED_INSTANCE_TYPES"]),
        ({"environment": "SAGEMAKER_SUBMIT_DIRECTORY=s3://someone-else/code.tar.gz"}, ["SAGEMAKER_SUBMIT_DIRECTORY is not a variable the recommender may set"]),
        ({"environment": "OMP_NUM_THREADS=2 SAGEMAKER_PROGRAM=evil.py"}, ["SAGEMAKER_PROGRAM is not a variable the recommender may set"]),
        ({"environment": "LD_PRELOAD=/tmp/evil.so OMP_NUM_THREADS=2"}, ["LD_PRELOAD is not a variable the recommender may set"]),
        ({"environment": "OMP_NUM_THREADS=100000"}, ["OMP_NUM_THREADS='100000': expected a count from 1 to 192"]),
        ({"environment": "OMP_NUM_THREADS=0"}, ["OMP_NUM_THREADS='0': expected a count"]),
        ({"gate_decision": "failed: p99 above the SLA"}, ["gate_decision = 'failed: p99 above the SLA', not 'passed'"]),
        ({"recommendation_job_name": "no-such-job"}, ["recommendation_job_name = 'no-such-job': no such Inference Recommender job"]),
        ({"recommendation_job_name": "../not a job name"}, ["recommendation_job_name = '../not a job name': no such Inference Recommender job"]),
        ({"recommendation_id": "rtb-bid-filter-v1-default/99999999"}, ["recommendation_id = 'rtb-bid-filter-v1-default/99999999' is not among the job's 2 recommendations"]),
        ({"recommended_instance_type": "ml.c5.xlarge"}, ["recommended_instance_type = 'ml.c5.xlarge', but the job recommends 'ml.c6i.large'"]),
        ({"environment": "OMP_NUM_THREADS=4"}, ["environment = OMP_NUM_THREADS=4, but the job's rtb-bid-filter-v1-default/00000001 has OMP_NUM_THREADS=2"]),
        ({"environment": "-"}, ["environment = no variables, but the job's"]),
        ({"inference_specification_name": "rtb-mlops-fast"}, ["inference_specification_name = 'rtb-mlops-fast', but the job's rtb-bid-filter-v1-default/00000001 benchmarked the primary specification"]),
        ({"inference_specification_name": "someone-elses"}, ["inference_specification_name = 'someone-elses' is not an inference specification of the package (it has: rtb-mlops-fast)"]),
    ],
)  # fmt: skip
def test_forged_metadata_is_refused_with_no_write(aws, changes, fragments):
    arn = add_version(aws)
    forge(aws, arn, **changes)
    refused(aws, arn, *fragments)


def test_the_fast_specification_is_deployed_by_name(aws):
    fast = dataclasses.replace(DEFAULT_REC, inference_specification_name="rtb-mlops-fast")
    add_version(aws, recommendation=fast)
    handler(approval_event(1), CONTEXT)
    model = aws.sm.describe_model(ModelName=serving_config(aws))
    assert model["PrimaryContainer"]["InferenceSpecificationName"] == "rtb-mlops-fast"
    assert model["PrimaryContainer"]["ModelPackageName"].endswith(f"model-package/{GROUP}/1")


def test_the_primary_specification_is_deployed_without_a_name(aws):
    add_version(aws)
    handler(approval_event(1), CONTEXT)
    assert "InferenceSpecificationName" not in aws.sm.describe_model(ModelName=serving_config(aws))["PrimaryContainer"]


def test_a_fast_recommendation_the_job_benchmarked_on_the_primary_is_refused(aws):
    arn = add_version(aws)
    # The job's own recommendation is the primary specification's: the metadata claims the fast one.
    forge(aws, arn, inference_specification_name="rtb-mlops-fast")
    refused(aws, "benchmarked the primary specification")


def test_metadata_without_a_gate_decision_is_refused(aws):
    arn = add_version(aws, recommendation=None)
    packages.update_metadata(aws.sm, arn, DEFAULT_REC.to_properties())
    aws.jobs.put(job_for(arn, DEFAULT_REC))
    refused(aws, "gate_decision = None, not 'passed'")


@pytest.mark.parametrize("status", ["IN_PROGRESS", "FAILED", "STOPPED"])
def test_a_job_that_did_not_complete_is_no_evidence(aws, status):
    add_version(aws)
    aws.jobs.jobs[f"{GROUP}-v1-default"]["Status"] = status
    refused(aws, f"recommendation_job_name = 'rtb-bid-filter-v1-default': the job is {status}, not COMPLETED")


def test_the_job_of_another_package_is_no_evidence(aws):
    v1 = add_version(aws)
    v2 = add_version(aws)
    # v1's metadata made to name v2's job, recommendation and all: everything matches but the package.
    forge(aws, v1, **{
        "recommendation_job_name": f"{GROUP}-v2-default", "recommendation_id": f"{GROUP}-v2-default/00000001",
    })  # fmt: skip
    refused(aws, f"recommendation_job_name = '{GROUP}-v2-default': the job benchmarked {v2}")


def test_a_refusal_is_logged_with_the_key(aws, caplog):
    arn = add_version(aws)
    forge(aws, arn, environment="LD_PRELOAD=/tmp/evil.so")
    with caplog.at_level(logging.ERROR):
        refused(aws, "LD_PRELOAD")
    assert '"message": "not deployed"' in caplog.text and "LD_PRELOAD is not a variable" in caplog.text


def test_autoscaling_of_the_serving_version_is_held_to_the_same_line(aws):
    arn = add_version(aws)
    handler(approval_event(1), CONTEXT)
    forge(aws, arn, max_instance_count="1000")
    aws.calls.ops.clear()
    refused(aws, "max_instance_count = 1000 is above this function's MAX_INSTANCES of 120", event=in_service_event())
    assert scaling(aws) == ([], [])


def test_a_rollback_target_is_held_to_the_same_line(aws):
    v1 = add_version(aws)
    v2 = add_version(aws)
    handler(approval_event(1), CONTEXT)
    handler(approval_event(2), CONTEXT)
    forge(aws, v1, recommended_instance_type="ml.fake.large")
    packages.set_approval(aws.sm, v2, "Rejected", "p99 regression")
    aws.calls.ops.clear()
    refused(aws, "ml.fake.large", event=approval_event(2, "Rejected"))
    assert serving_config(aws) == resource_name(ENDPOINT, GROUP, 2)


def test_a_huge_event_field_is_logged_cut_short(aws, caplog):
    add_version(aws)
    with caplog.at_level(logging.INFO):
        out = handler(_mutate("source", "x" * 1_000_000), CONTEXT)
    assert out["action"] == "skipped" and len(out["detail"]) < 300
    assert max(len(r.getMessage()) for r in caplog.records) < 1000


def test_instance_type_the_account_cannot_use(aws, monkeypatch):
    add_version(aws)
    inject(
        monkeypatch,
        "CreateEndpoint",
        "ResourceLimitExceeded",
        "account-level service limit 'ml.c6i.large for endpoint usage' is 0 Instances",
        times=99,
    )
    with pytest.raises(ClientError, match="ResourceLimitExceeded"):
        handler(approval_event(1), CONTEXT)
    assert aws.sm.list_endpoints()["Endpoints"] == [], aws.calls.ops


def test_missing_settings_are_named(monkeypatch):
    monkeypatch.delenv("ENDPOINT_NAME", raising=False)
    monkeypatch.delenv("SAGEMAKER_EXECUTION_ROLE_ARN", raising=False)
    with pytest.raises(SettingsError, match="ENDPOINT_NAME, MODEL_PACKAGE_GROUP_NAME, SAGEMAKER_EXECUTION_ROLE_ARN"):
        Settings.from_env({})
    with pytest.raises(SettingsError, match="CANARY_PERCENT='90'"):
        Settings.from_env({**ENV, "CANARY_PERCENT": "90"})
    with pytest.raises(SettingsError, match="DEPLOYMENT_STRATEGY"):
        Settings.from_env({**ENV, "DEPLOYMENT_STRATEGY": "yolo"})
    with pytest.raises(SettingsError, match="ALLOWED_INSTANCE_TYPES='ml.c5.large;rm': expected instance types"):
        Settings.from_env({**ENV, "ALLOWED_INSTANCE_TYPES": "ml.c5.large;rm"})
    with pytest.raises(SettingsError, match="MAX_INSTANCES='1001': expected an integer from 1 to 1000"):
        Settings.from_env({**ENV, "MAX_INSTANCES": "1001"})
    assert Settings.from_env({**ENV, "ALLOWED_INSTANCE_TYPES": "ml.c5.large, ml.m5.large"}).instance_types == (
        "ml.c5.large",
        "ml.m5.large",
    )


# --- busy endpoints, failures midway, throttling ------------------------------------------------


def test_busy_endpoint_raises_for_retry_unless_already_heading_there(aws, monkeypatch):
    from moto.sagemaker.models import sagemaker_backends

    add_version(aws)
    add_version(aws)
    handler(approval_event(1), CONTEXT)
    endpoint = sagemaker_backends[ACCOUNT][REGION].endpoints[ENDPOINT]
    endpoint.endpoint_status = "Updating"
    with pytest.raises(EndpointBusy, match="is Updating; retry later"):
        handler(approval_event(2), CONTEXT)
    endpoint.endpoint_status = "Creating"
    assert handler(approval_event(1), CONTEXT)["action"] == "unchanged"


def test_a_deploy_that_fails_midway_is_completed_by_the_next_attempt(aws, monkeypatch):
    add_version(aws)
    inject(monkeypatch, "CreateEndpointConfig", "ValidationException", "injected failure", times=99)
    with pytest.raises(ClientError):
        handler(approval_event(1), CONTEXT)
    assert len(aws.sm.list_models()["Models"]) == 1
    assert aws.sm.list_endpoint_configs()["EndpointConfigs"] == []
    _INJECTED.clear()
    assert handler(approval_event(1), CONTEXT)["action"] == "created"
    assert len(aws.sm.list_models()["Models"]) == 1


_INJECTED: dict[str, int] = {}


def inject(monkeypatch, operation: str, code: str, message: str, times: int = 1) -> dict[str, int]:
    """Make the next `times` calls of `operation` fail as AWS would, without reaching moto.

    Injected at `before-send`, so botocore's retry handler sees a real error response.
    botocore calls every before-send handler, so moto's is told to leave marked requests.
    """
    from moto.core.botocore_stubber import BotocoreStubber

    moto_send = BotocoreStubber.__call__

    def moto_unless_injected(self, event_name, request, **kwargs):
        return None if request.headers.get("x-test-injected") else moto_send(self, event_name, request, **kwargs)

    monkeypatch.setattr(BotocoreStubber, "__call__", moto_unless_injected)
    _INJECTED.clear()
    _INJECTED[operation] = times
    seen: dict[str, int] = {}
    original = handler_module.client

    def failing_client(service, region=None):
        c = original(service, region)

        def before_send(request, event_name, **kwargs):
            op = event_name.rsplit(".", 1)[-1]
            seen[op] = seen.get(op, 0) + 1
            if _INJECTED.get(op, 0) > 0:
                _INJECTED[op] -= 1
                request.headers["x-test-injected"] = "1"
                body = json.dumps({"__type": code, "message": message}).encode()
                return AWSResponse(request.url, 400, {"x-amzn-query-error": f"{code};Sender"}, _Raw(body))
            return None

        c.meta.events.register_first("before-send.*.*", before_send)
        return c

    monkeypatch.setattr(handler_module, "client", failing_client)
    return seen


class _Raw:
    def __init__(self, body: bytes):
        self.body = body

    def stream(self, **kwargs):
        yield self.body

    def read(self, *args):
        return self.body


@pytest.mark.parametrize(
    "operation",
    ["DescribeModelPackage", "DescribeEndpoint", "DescribeModel", "CreateModel", "DescribeEndpointConfig",
     "CreateEndpointConfig", "DescribeAlarms", "PutMetricAlarm", "CreateEndpoint"],
)  # fmt: skip
def test_throttling_at_each_call_is_retried(aws, monkeypatch, operation):
    add_version(aws)
    seen = inject(monkeypatch, operation, "ThrottlingException", "Rate exceeded")
    assert handler(approval_event(1), CONTEXT)["action"] == "created"
    assert seen[operation] >= 2, seen


@pytest.mark.parametrize(
    "operation", ["DescribeScalableTargets", "RegisterScalableTarget", "DescribeScalingPolicies", "PutScalingPolicy"]
)
def test_throttling_in_autoscaling_calls_is_retried(aws, monkeypatch, operation):
    add_version(aws)
    handler(approval_event(1), CONTEXT)
    seen = inject(monkeypatch, operation, "ThrottlingException", "Rate exceeded")
    assert handler(in_service_event(), CONTEXT)["action"] == "autoscaling"
    assert seen[operation] >= 2


def test_throttled_update_endpoint_is_retried(aws, monkeypatch):
    add_version(aws)
    add_version(aws)
    handler(approval_event(1), CONTEXT)
    seen = inject(monkeypatch, "UpdateEndpoint", "ThrottlingException", "Rate exceeded")
    assert handler(approval_event(2), CONTEXT)["action"] == "updated"
    assert seen["UpdateEndpoint"] == 2


# --- the update request, exactly (botocore Stubber) ------------------------------------------


def test_update_request_with_stubber():
    """The blue/green update as the API receives it: every call stubbed with API shapes."""
    from datetime import UTC, datetime

    from botocore.stub import Stubber

    from deploy_lambda.deploy import Deployer

    now = datetime(2026, 11, 29, tzinfo=UTC)
    settings = Settings.from_env({**ENV, "DEPLOYMENT_STRATEGY": "linear", "LINEAR_STEP_PERCENT": "25"})
    sm, aas, cw = (boto3.client(s, region_name=REGION) for s in ("sagemaker", "application-autoscaling", "cloudwatch"))
    v1, v2 = (f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/{GROUP}/{v}" for v in (1, 2))
    old, new = resource_name(ENDPOINT, GROUP, 1), resource_name(ENDPOINT, GROUP, 2)
    job = f"{GROUP}-v2-default"
    recommendation = dataclasses.replace(rec(), recommendation_job_name=job, recommendation_id=f"{job}/00000001")
    package = {
        "ModelPackageName": GROUP, "ModelPackageGroupName": GROUP, "ModelPackageVersion": 2, "ModelPackageArn": v2,
        "CreationTime": now, "ModelPackageStatus": "Completed", "ModelApprovalStatus": "Approved",
        "ModelPackageStatusDetails": {"ValidationStatuses": [], "ImageScanStatuses": []},
        "CustomerMetadataProperties": {**recommendation.to_properties(), "gate_decision": "passed"},
    }  # fmt: skip
    endpoint = {
        "EndpointName": ENDPOINT, "EndpointArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/{ENDPOINT}",
        "EndpointConfigName": old, "EndpointStatus": "InService", "CreationTime": now, "LastModifiedTime": now,
    }  # fmt: skip

    def config(name):
        variant = {
            "VariantName": "AllTraffic",
            "ModelName": name,
            "InstanceType": "ml.c6i.large",
            "InitialInstanceCount": 4,
        }
        arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint-config/{name}"
        return {
            "EndpointConfigName": name,
            "EndpointConfigArn": arn,
            "ProductionVariants": [variant],
            "CreationTime": now,
        }

    def model(name, package_arn):
        arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model/{name}"
        container = {"ModelPackageName": package_arn}
        return {
            "ModelName": name,
            "ModelArn": arn,
            "PrimaryContainer": container,
            "CreationTime": now,
            "ExecutionRoleArn": ROLE,
        }

    def missing(stub, op, what):
        stub.add_client_error(op, "ValidationException", f"Could not find {what}.", 400)

    with Stubber(sm) as s, Stubber(aas) as a, Stubber(cw) as c:
        s.add_response("describe_model_package", package, {"ModelPackageName": v2})
        s.add_response("describe_inference_recommendations_job", job_for(v2, recommendation), {"JobName": job})
        s.add_response("describe_endpoint", endpoint, {"EndpointName": ENDPOINT})
        s.add_response("describe_endpoint_config", config(old), {"EndpointConfigName": old})
        s.add_response("describe_model", model(old, v1), {"ModelName": old})
        missing(s, "describe_model", "model")
        s.add_response("create_model", {"ModelArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model/{new}"}, {
            "ModelName": new, "ExecutionRoleArn": ROLE,
            "PrimaryContainer": {"ModelPackageName": v2, "Environment": {"OMP_NUM_THREADS": "2"}},
            "Tags": [{"Key": "rtb-mlops:model-package-arn", "Value": v2}],
        })  # fmt: skip
        s.add_response("describe_model", model(new, v2), {"ModelName": new})
        missing(s, "describe_endpoint_config", "endpoint configuration")
        s.add_response("create_endpoint_config", {"EndpointConfigArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint-config/{new}"}, {
            "EndpointConfigName": new,
            "ProductionVariants": [{"VariantName": "AllTraffic", "ModelName": new, "InstanceType": "ml.c6i.large",
                                    "InitialInstanceCount": 4, "InitialVariantWeight": 1.0}],
            "Tags": [{"Key": "rtb-mlops:model-package-arn", "Value": v2}],
        })  # fmt: skip
        c.add_response(
            "describe_alarms",
            {"MetricAlarms": []},
            {"AlarmNames": [f"{ENDPOINT}-5xx-errors", f"{ENDPOINT}-4xx-error-rate", f"{ENDPOINT}-model-latency"]},
        )
        # PutMetricAlarm as the CloudWatch API reference shapes it; SageMaker publishes
        # ModelLatency in microseconds, so the 20 ms SLA is 20,000.
        dims = [{"Name": "EndpointName", "Value": ENDPOINT}, {"Name": "VariantName", "Value": "AllTraffic"}]
        c.add_response("put_metric_alarm", {}, {
            "AlarmName": f"{ENDPOINT}-5xx-errors", "AlarmDescription": "Endpoint 5XX errors; blue/green updates roll back on it",
            "Namespace": "AWS/SageMaker", "MetricName": "Invocation5XXErrors", "Dimensions": dims, "Statistic": "Sum",
            "Period": 60, "EvaluationPeriods": 1, "Threshold": 10.0, "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "TreatMissingData": "notBreaching",
        })  # fmt: skip
        c.add_response("put_metric_alarm", {}, {
            "AlarmName": f"{ENDPOINT}-4xx-error-rate",
            "AlarmDescription": "Share of requests answered 4XX; blue/green updates roll back on it",
            "Namespace": "AWS/SageMaker", "MetricName": "Invocation4XXErrors", "Dimensions": dims, "Statistic": "Average",
            "Period": 60, "EvaluationPeriods": 1, "Threshold": 0.05, "ComparisonOperator": "GreaterThanThreshold",
            "TreatMissingData": "notBreaching",
        })  # fmt: skip
        c.add_response("put_metric_alarm", {}, {
            "AlarmName": f"{ENDPOINT}-model-latency", "AlarmDescription": "p99 model latency above the 20 ms SLA",
            "Namespace": "AWS/SageMaker", "MetricName": "ModelLatency", "Dimensions": dims, "ExtendedStatistic": "p99",
            "Period": 60, "EvaluationPeriods": 3, "Threshold": 20000.0, "ComparisonOperator": "GreaterThanThreshold",
            "TreatMissingData": "notBreaching",
        })  # fmt: skip
        s.add_response("describe_endpoint_config", config(old), {"EndpointConfigName": old})
        s.add_response("describe_model", model(old, v1), {"ModelName": old})
        s.add_response("update_endpoint", {"EndpointArn": endpoint["EndpointArn"]}, {
            "EndpointName": ENDPOINT,
            "EndpointConfigName": new,
            "DeploymentConfig": {
                "BlueGreenUpdatePolicy": {
                    "TrafficRoutingConfiguration": {"Type": "LINEAR", "WaitIntervalInSeconds": 300,
                                                    "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 25}},
                    "TerminationWaitInSeconds": 120,
                },
                "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": f"{ENDPOINT}-5xx-errors"},
                                                         {"AlarmName": f"{ENDPOINT}-4xx-error-rate"},
                                                         {"AlarmName": f"{ENDPOINT}-model-latency"}]},
            },
        })  # fmt: skip
        ctx = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:context/endpoint-{ENDPOINT}"
        s.add_response("list_contexts", {"ContextSummaries": []}, {"SourceUri": endpoint["EndpointArn"]})
        s.add_client_error("describe_context", "ResourceNotFound", "Context does not exist.", 400)
        s.add_response("create_context", {"ContextArn": ctx}, {
            "ContextName": f"endpoint-{ENDPOINT}", "ContextType": "Endpoint", "Source": {"SourceUri": endpoint["EndpointArn"]},
        })  # fmt: skip
        art = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:artifact/v2"  # SageMaker's artifact for the package
        s.add_response("list_artifacts", {"ArtifactSummaries": [{"ArtifactArn": art}]}, {"SourceUri": v2})
        s.add_response("list_associations", {"AssociationSummaries": []}, {"SourceArn": art, "DestinationArn": ctx})
        s.add_response("add_association", {"SourceArn": art, "DestinationArn": ctx},
                       {"SourceArn": art, "DestinationArn": ctx, "AssociationType": "ContributedTo"})  # fmt: skip
        out = Deployer(settings, sm, aas, cw).deploy(v2)
        assert out.action == "updated"
        for stub in (s, a, c):
            stub.assert_no_pending_responses()


# --- two deliveries at once (no reserved concurrency) -------------------------------------------


def deliveries_at_once(aws, monkeypatch, winner: int) -> None:
    """The next delivery reads the endpoint's state, then the `winner` delivery runs to its end
    before it acts (as two invocations running at once would); SageMaker then shows the
    endpoint Creating, as it would for minutes."""
    from moto.sagemaker.models import sagemaker_backends

    from deploy_lambda import resources

    real = resources.describe_endpoint
    first = [True]

    def stale(sm, name):
        seen = real(sm, name)
        if first[0]:
            first[0] = False
            assert handler(approval_event(winner), CONTEXT)["action"] == "created"
            sagemaker_backends[ACCOUNT][REGION].endpoints[ENDPOINT].endpoint_status = "Creating"
        return seen

    monkeypatch.setattr(resources, "describe_endpoint", stale)


def test_the_same_approval_delivered_twice_at_once_deploys_once(aws, monkeypatch):
    add_version(aws)
    deliveries_at_once(aws, monkeypatch, winner=1)
    assert handler(approval_event(1), CONTEXT)["action"] == "unchanged"
    assert len(aws.sm.list_endpoints()["Endpoints"]) == 1
    assert len(aws.sm.list_models()["Models"]) == 1


def test_another_approval_delivered_at_once_finds_the_endpoint_busy(aws, monkeypatch):
    add_version(aws)
    add_version(aws)
    deliveries_at_once(aws, monkeypatch, winner=1)
    with pytest.raises(EndpointBusy, match="is Creating; retry later"):
        handler(approval_event(2), CONTEXT)
    assert serving_config(aws) == resource_name(ENDPOINT, GROUP, 1)


def test_a_foreign_config_the_role_may_not_read_is_reported_as_denied(aws, monkeypatch):
    """AccessDenied is not "not found": deploying over a config nobody here can read is refused."""
    add_version(aws)
    add_version(aws)
    handler(approval_event(1), CONTEXT)
    aws.sm.create_endpoint_config(
        EndpointConfigName="someone-elses",
        ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": resource_name(ENDPOINT, GROUP, 1),
                             "InstanceType": "ml.c6i.large", "InitialInstanceCount": 1}],
    )  # fmt: skip
    aws.sm.update_endpoint(EndpointName=ENDPOINT, EndpointConfigName="someone-elses")
    user = f"arn:aws:sts::{ACCOUNT}:assumed-role/deploy/fn"
    denied = f"User: {user} is not authorized to perform: sagemaker:DescribeEndpointConfig on resource: someone-elses"
    inject(monkeypatch, "DescribeEndpointConfig", "AccessDeniedException", denied)
    with pytest.raises(NotDeployable, match="serves endpoint config someone-elses, which this function's role may"):
        handler(approval_event(2), CONTEXT)
    assert serving_config(aws) == "someone-elses"
