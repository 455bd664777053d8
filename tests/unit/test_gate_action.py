"""The gate's approve / hold / reject actions on a real (moto) model package."""

import json

import boto3
import pytest

from model_registry import packages
from steps import gate_action
from tests.unit.test_registry import registration


@pytest.fixture
def arn(moto_aws):
    sm = boto3.client("sagemaker", region_name="us-east-1")
    packages.ensure_group(sm, "rtb-bid-filter", "RTB")
    return packages.register_version(sm, registration())


def results_dir(tmp_path, passed: bool):
    gate = {
        "passed": passed,
        "reason": "ml.c6i.large x4: 2 ms within the 20 ms SLA" if passed else "model latency 25 ms above the 20 ms SLA",
        "failure_reason": "" if passed else "model latency 25 ms above the 20 ms SLA",
    }
    (tmp_path / "results.json").write_text(json.dumps({"gate": gate}))
    return tmp_path


def act(action, arn, tmp_path, passed):
    return gate_action.main(
        ["--action", action, "--model-package-arn", arn, "--results-dir", str(results_dir(tmp_path, passed))]
    )


def state(arn):
    return packages.describe(boto3.client("sagemaker", region_name="us-east-1"), arn)


def test_auto_mode_approves_with_the_reason(arn, tmp_path):
    assert act("approve", arn, tmp_path, True) == 0
    s = state(arn)
    assert s.approval_status == "Approved" and "2 ms within the 20 ms SLA" in s.approval_description
    assert s.customer_metadata["gate_decision"] == "passed"


def test_manual_mode_holds_for_a_person(arn, tmp_path):
    act("hold", arn, tmp_path, True)
    s = state(arn)
    assert s.approval_status == "PendingManualApproval" and s.customer_metadata["gate_decision"] == "passed"


def test_reject_records_why(arn, tmp_path):
    act("reject", arn, tmp_path, False)
    s = state(arn)
    assert s.approval_status == "Rejected"
    assert s.approval_description == "Rejected by the approval gate: model latency 25 ms above the 20 ms SLA"
    assert s.customer_metadata["gate_decision"] == "failed: model latency 25 ms above the 20 ms SLA"


def test_a_person_s_decision_is_not_overridden(arn, tmp_path, capsys):
    sm = boto3.client("sagemaker", region_name="us-east-1")
    packages.set_approval(sm, arn, "Rejected", "security review: not yet")
    act("approve", arn, tmp_path, True)
    assert state(arn).approval_status == "Rejected"
    assert "leaves a decided package as it is" in capsys.readouterr().out


def test_repeated_approve_emits_one_approval(arn, tmp_path):
    from emulator.moto_fixes import approval_changes

    changes = []
    with approval_changes(lambda package, previous: changes.append((previous, package.model_approval_status))):
        act("approve", arn, tmp_path, True)
        act("approve", arn, tmp_path, True)
    assert changes == [("PendingManualApproval", "Approved")]


def test_missing_results_is_a_clear_error(arn, tmp_path):
    with pytest.raises(SystemExit, match="results.json: cannot read the gate's results"):
        gate_action.main(["--action", "approve", "--model-package-arn", arn, "--results-dir", str(tmp_path)])
