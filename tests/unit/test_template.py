"""deploy_lambda/template.yaml: cfn-lint clean, least privilege, and an event pattern that
matches exactly the events it should (evaluated by moto's EventBridge, fed real-shaped events)."""

import json
import re
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
import yaml

from model_registry import deploy_bounds
from model_registry.names import ENDPOINT_CHANGE, EVENT_SOURCE, PACKAGE_CHANGE
from tests.unit.test_deploy_lambda import approval_event, in_service_event

TEMPLATE = Path(__file__).resolve().parents[2] / "deploy_lambda" / "template.yaml"
ROLE_TEMPLATE = Path(__file__).resolve().parents[2] / "pipelines" / "templates" / "execution-role.yaml"
IMAGE_REPOSITORY_TEMPLATE = ROLE_TEMPLATE.with_name("image-repository.yaml")


class _CfnLoader(yaml.SafeLoader):
    pass


for _tag in ("Ref", "GetAtt", "Sub", "If", "Equals", "Not", "Join"):
    _CfnLoader.add_multi_constructor(
        f"!{_tag}", lambda loader, suffix, node, tag=_tag: {tag: loader.construct_sequence(node, deep=True) if isinstance(node, yaml.SequenceNode) else loader.construct_scalar(node)}
    )  # fmt: skip


def template() -> dict:
    return yaml.load(TEMPLATE.read_text(), Loader=_CfnLoader)  # noqa: S506 - a SafeLoader subclass


def resolve(node, params: dict, conditions: dict):
    if isinstance(node, dict) and len(node) == 1:
        ((key, value),) = node.items()
        if key == "Ref":
            return params[value]
        if key == "If":
            name, yes, no = value
            return resolve(yes if conditions[name] else no, params, conditions)
    if isinstance(node, dict):
        return {k: resolve(v, params, conditions) for k, v in node.items()}
    if isinstance(node, list):
        return [resolve(v, params, conditions) for v in node]
    return node


def test_cfn_lint_passes():
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    templates = [str(TEMPLATE), str(ROLE_TEMPLATE), str(IMAGE_REPOSITORY_TEMPLATE)]
    out = subprocess.run([str(cfn_lint), *templates], capture_output=True, text=True, timeout=300, check=False)
    assert out.returncode == 0, out.stdout + out.stderr


def test_no_wildcard_sagemaker_actions_and_passrole_is_scoped():
    statements = template()["Resources"]["DeployFunctionRole"]["Properties"]["Policies"][0]["PolicyDocument"][
        "Statement"
    ]
    kms = [s["If"] for s in statements if "If" in s]
    # The KMS grant statement exists only when a key is configured (issue 12, item 5).
    assert [(k[0], k[1]["Action"], k[2]) for k in kms] == [
        ("HasKmsKey", ["kms:CreateGrant", "kms:DescribeKey"], {"Ref": "AWS::NoValue"})
    ]
    for st in [s for s in statements if "Sid" in s] + [k[1] for k in kms]:
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        assert not any(a.endswith(":*") or a == "*" for a in actions), st["Sid"]
        if any(a.startswith("sagemaker:") for a in actions) and st["Resource"] == "*":
            # Actions with no resource-level permissions can only be granted on "*".
            assert set(actions) <= {
                "sagemaker:ListModelPackages",
                "sagemaker:ListArtifacts",
                "sagemaker:ListContexts",
                "sagemaker:ListAssociations",
            }, st["Sid"]
    passrole = next(s for s in statements if s["Action"] == "iam:PassRole")
    assert passrole["Resource"] == {"Ref": "SageMakerExecutionRoleArn"}
    assert passrole["Condition"] == {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}


def test_associations_are_granted_on_lineage_entities_only():
    """AddAssociation joins artifacts, actions and contexts (its AssociationEntityArn pattern),
    so granting it on a model package would only hide that the link goes nowhere."""
    statements = template()["Resources"]["DeployFunctionRole"]["Properties"]["Policies"][0]["PolicyDocument"][
        "Statement"
    ]
    # A conditional statement ({"If": [condition, statement, AWS::NoValue]} as read here) counts by its statement.
    statements = [st["If"][1] if "If" in st else st for st in statements]
    granted = [
        str(r)
        for st in statements
        if "sagemaker:AddAssociation" in st["Action"]
        for r in (st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]])
    ]
    assert granted and all(re.search(r":(artifact|action|context)/", r) for r in granted), granted


# Each numeric stack parameter and the bound the config and the Lambda's settings read.
PARAMETER_BOUNDS = {
    "MaxInstances": deploy_bounds.MAX_INSTANCES,
    "CanaryPercent": deploy_bounds.CANARY_PERCENT,
    "LinearStepPercent": deploy_bounds.LINEAR_STEP_PERCENT,
    "WaitIntervalSeconds": deploy_bounds.WAIT_INTERVAL_SECONDS,
    "TerminationWaitSeconds": deploy_bounds.TERMINATION_WAIT_SECONDS,
    "ScaleInCooldownSeconds": deploy_bounds.SCALE_IN_COOLDOWN_SECONDS,
    "ScaleOutCooldownSeconds": deploy_bounds.SCALE_OUT_COOLDOWN_SECONDS,
    "MaxLatencyMs": deploy_bounds.MAX_LATENCY_MS,
    "DataCapturePercent": deploy_bounds.DATA_CAPTURE_PERCENT,
}


def test_parameters_hold_the_deploy_bounds():
    params = template()["Parameters"]
    numbers = {name for name, p in params.items() if p["Type"] == "Number"}
    assert numbers == set(PARAMETER_BOUNDS), "a numeric parameter without a bound in model_registry.deploy_bounds"
    for name, bound in PARAMETER_BOUNDS.items():
        declared = (params[name]["Default"], params[name]["MinValue"], params[name]["MaxValue"])
        assert declared == (bound.default, bound.lo, bound.hi), name
    assert tuple(params["DeploymentStrategy"]["AllowedValues"]) == deploy_bounds.STRATEGIES
    assert params["DeploymentStrategy"]["Default"] == deploy_bounds.DEFAULT_STRATEGY
    assert params["RollbackOnReject"]["Default"] == str(deploy_bounds.ROLLBACK_ON_REJECT).lower()


def test_rules_match_the_event_types_the_handler_reads():
    resources = template()["Resources"]
    for rule, detail_type in (("ApprovalRule", PACKAGE_CHANGE), ("EndpointRule", ENDPOINT_CHANGE)):
        pattern = resources[rule]["Properties"]["EventPattern"]
        assert (pattern["source"], pattern["detail-type"]) == ([EVENT_SOURCE], [detail_type]), rule


def _matches(pattern: dict, events: list[dict]) -> list[str]:
    """Ids of the events an EventBridge rule with `pattern` delivers to its (SQS) target."""
    ev, sqs = boto3.client("events", region_name="us-east-1"), boto3.client("sqs", region_name="us-east-1")
    queue = sqs.create_queue(QueueName="pattern-check")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    ev.put_rule(Name="under-test", EventPattern=json.dumps(pattern))
    ev.put_targets(Rule="under-test", Targets=[{"Id": "q", "Arn": queue_arn}])
    for e in events:
        entry = {
            "Source": e["source"],
            "DetailType": e["detail-type"],
            "Detail": json.dumps(e["detail"]),
            "Resources": e["resources"],
        }
        assert ev.put_events(Entries=[entry])["FailedEntryCount"] == 0
    got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
    return sorted(json.loads(m["Body"])["detail"]["tag"] for m in got)


def _tagged(event: dict, tag: str) -> dict:
    event["detail"]["tag"] = tag
    return event


def _candidates() -> list[dict]:
    other_group = approval_event(1)
    other_group["detail"]["ModelPackageGroupName"] = "another-group"
    endpoint_event = in_service_event()
    return [
        _tagged(approval_event(1), "approved"),
        _tagged(approval_event(2, "Rejected"), "rejected"),
        _tagged(approval_event(3, "PendingManualApproval"), "pending"),
        _tagged(other_group, "other-group"),
        _tagged(endpoint_event, "endpoint"),
    ]


@pytest.mark.parametrize(("rollback", "expected"), [("true", ["approved", "rejected"]), ("false", ["approved"])])
def test_approval_rule_matches_only_what_it_should(moto_aws, rollback, expected):
    tpl = template()
    params = {"ModelPackageGroupName": "rtb-bid-filter", "EndpointName": "rtb-bid-filter", "RollbackOnReject": rollback}
    pattern = resolve(
        tpl["Resources"]["ApprovalRule"]["Properties"]["EventPattern"], params, {"RollbackEnabled": rollback == "true"}
    )
    assert _matches(pattern, _candidates()) == expected


def test_endpoint_rule_matches_only_the_endpoint_in_service(moto_aws):
    params = {"ModelPackageGroupName": "rtb-bid-filter", "EndpointName": "rtb-bid-filter"}
    pattern = resolve(template()["Resources"]["EndpointRule"]["Properties"]["EventPattern"], params, {})
    creating = _tagged(in_service_event(), "creating")
    creating["detail"]["EndpointStatus"] = "CREATING"
    assert _matches(pattern, [*_candidates(), creating]) == ["endpoint"]


def test_endpoint_names_with_capitals_are_refused_by_the_template():
    pattern = template()["Parameters"]["EndpointName"]["AllowedPattern"]
    assert re.fullmatch(pattern, "rtb-bid-filter")
    assert not re.fullmatch(pattern, "RTB-Bid-Filter")
