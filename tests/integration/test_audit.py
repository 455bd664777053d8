"""The audit after a real flow on the emulator: clean, then each kind of tampering raises
its finding (and only it), and putting things back clears it."""

from __future__ import annotations

import time

import boto3
import pytest

from model_registry import packages
from model_registry.audit.collect import Clients, collect
from model_registry.audit.findings import evaluate
from tests.integration.endpoints import update_when_ready

pytestmark = pytest.mark.integration
NAME = "flow-auto"  # the shared auto-approval flow (tampering here is undone before each test ends)


def audit(endpoint: str = NAME):
    return evaluate(collect(Clients(boto3.client("sagemaker"), boto3.client("s3")), endpoint=endpoint))


def codes(a) -> set[str]:
    return {f.code for f in a.findings}


@pytest.fixture(scope="module")
def deployed(auto_flow):
    return audit()


def test_a_clean_chain_has_no_findings_and_reports_every_link(deployed):
    a = deployed
    assert a.findings == [], a.findings
    d = a.to_dict()
    assert d["endpoint"]["name"] == NAME
    assert d["model_package"]["approval_status"] == "Approved"
    assert d["model_package"]["arn"].endswith(f"model-package/{NAME}/1")
    assert d["pipeline_execution"]["arn"] == a.package.generated_by
    assert [s["name"] for s in d["pipeline_execution"]["steps"]][:3] == ["RegisterModel", "Parity", "Recommend"]
    assert d["recommendation"]["job_name"] == f"{NAME}-v1-default"
    assert d["artifact"]["sha256_recorded"] == d["artifact"]["sha256_now"]
    assert d["artifact"]["uri"].startswith("s3://rtb-mlops-local/")


def test_changed_artifact(deployed):
    bucket, _, key = deployed.artifact.uri.removeprefix("s3://").partition("/")
    s3 = boto3.client("s3")
    original = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    s3.put_object(Bucket=bucket, Key=key, Body=original + b"\0")
    try:
        assert codes(audit()) == {"ARTIFACT_CHANGED"}
    finally:
        s3.put_object(Bucket=bucket, Key=key, Body=original)
    assert codes(audit()) == set()


def test_endpoint_serving_an_unapproved_package(deployed):
    sm = boto3.client("sagemaker")
    packages.set_approval(sm, deployed.package.arn, "Rejected", "revoked after a data review")
    try:
        found = codes(audit())
        assert "SERVES_UNAPPROVED_PACKAGE" in found and "APPROVED_WITHOUT_PASSED_GATE" not in found
    finally:
        packages.set_approval(sm, deployed.package.arn, "Approved", "restored")
    time.sleep(2)  # the approval event runs the Lambda, which finds nothing to change
    assert codes(audit()) == set()


def test_endpoint_config_changed_outside_the_deploy_path(deployed):
    sm = boto3.client("sagemaker")
    original = deployed.config.name
    sm.create_endpoint_config(
        EndpointConfigName="hand-made",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": deployed.config.model_name,
                "InstanceType": "ml.c5.xlarge",
                "InitialInstanceCount": 1,
            }
        ],
    )
    update_when_ready(sm, EndpointName=NAME, EndpointConfigName="hand-made")
    try:
        wait_config(sm, "hand-made")
        found = audit().findings
        assert [f.code for f in found] == ["CONFIG_CHANGED_OUTSIDE_DEPLOY"]
        assert "ml.c5.xlarge x1" in found[0].message
    finally:
        update_when_ready(sm, EndpointName=NAME, EndpointConfigName=original)
        wait_config(sm, original)
    assert codes(audit()) == set()


def wait_config(sm, name: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        e = sm.describe_endpoint(EndpointName=NAME)
        if e["EndpointConfigName"] == name and e["EndpointStatus"] == "InService":
            return
        assert time.monotonic() < deadline
        time.sleep(0.3)


def test_approved_without_a_passed_gate(deployed):
    sm = boto3.client("sagemaker")
    packages.update_metadata(
        sm, deployed.package.arn, {"gate_decision": "failed: cost per inference above the ceiling"}
    )
    try:
        assert codes(audit()) == {"APPROVED_WITHOUT_PASSED_GATE"}
    finally:
        packages.update_metadata(sm, deployed.package.arn, {"gate_decision": "passed"})
    assert codes(audit()) == set()


def test_missing_lineage_link(deployed):
    sm = boto3.client("sagemaker")
    artifact_arn = sm.list_artifacts(SourceUri=deployed.artifact.uri)["ArtifactSummaries"][0]["ArtifactArn"]
    # Lineage holds the package as the artifact SageMaker made for it (a package ARN is refused).
    package_artifact = sm.list_artifacts(SourceUri=deployed.package.arn)["ArtifactSummaries"][0]["ArtifactArn"]
    with pytest.raises(sm.exceptions.ClientError, match="Member must satisfy regular expression pattern"):
        sm.add_association(SourceArn=artifact_arn, DestinationArn=deployed.package.arn)
    sm.delete_association(SourceArn=artifact_arn, DestinationArn=package_artifact)
    try:
        found = audit().findings
        assert [f.code for f in found] == ["MISSING_LINEAGE"]
        assert "model artifact -> model package" in found[0].message
    finally:
        sm.add_association(SourceArn=artifact_arn, DestinationArn=package_artifact, AssociationType="ContributedTo")
    assert codes(audit()) == set()


def test_reports_render_with_a_diagram(deployed, tmp_path):
    from pipelines.cli import main

    for fmt, marker in (("md", "```mermaid"), ("html", "<svg"), ("json", '"findings": []'), ("text", "no findings")):
        out = tmp_path / f"report.{fmt}"
        assert main(["audit", "--endpoint", NAME, "--format", fmt, "--out", str(out)]) == 0
        assert marker in out.read_text(), fmt


def test_registry_history_row(deployed, capsys):
    from pipelines.cli import main

    assert main(["registry", "history", NAME, "--set", "aws.role_arn=arn:aws:iam::123456789012:role/x"]) == 0
    rows = [ln.split() for ln in capsys.readouterr().out.splitlines()[1:]]
    assert rows[0][0] == "1" and rows[0][1] == "Approved" and "passed" in rows[0]
    assert rows[0][-2:] == ["serving:", NAME]
