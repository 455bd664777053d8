"""Model Registry operations against moto (with the emulator's corrections)."""

import boto3
import pytest
from botocore.exceptions import ClientError

from model_registry import packages
from model_registry.contract import Recommendation
from model_registry.names import FAST_SPECIFICATION

IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:3.0-5"
FAST_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/rtb-mlops-serving:v1"


def registration(**kw) -> packages.Registration:
    base = dict(
        group="rtb-bid-filter",
        image_uri=IMAGE,
        model_data_url="s3://bucket/in/model.tar.gz",
        sample_payload_url="s3://bucket/in/payload.tar.gz",
        framework_version="3.0",
        instance_types=("ml.c5.large", "ml.c6i.large"),
        artifact_sha256="ab" * 32,
        golden_uri="s3://bucket/in/golden.json",
        golden_sha256="cd" * 32,
        commit="0123abc",
        repository="https://github.com/rtb-mlops/rtb-mlops",
        generated_by="arn:aws:sagemaker:us-east-1:123456789012:pipeline/rtb/execution/abc",
        fast_image_uri=FAST_IMAGE,
    )
    return packages.Registration(**{**base, **kw})


def test_the_fast_image_is_the_packages_additional_inference_specification(sm):
    packages.ensure_group(sm, "rtb-bid-filter", "RTB")
    arn = packages.register_version(sm, registration())
    resp = sm.describe_model_package(ModelPackageName=arn)
    assert resp["InferenceSpecification"]["Containers"][0]["Image"] == IMAGE
    (fast,) = resp["AdditionalInferenceSpecifications"]
    assert fast["Name"] == FAST_SPECIFICATION
    assert fast["Containers"][0] == {
        "Image": FAST_IMAGE,
        "ModelDataUrl": "s3://bucket/in/model.tar.gz",
        "Framework": "XGBOOST",
        "FrameworkVersion": "3.0",
    }
    assert packages.describe(sm, arn).specifications == {FAST_SPECIFICATION: FAST_IMAGE}


@pytest.fixture
def sm(moto_aws):
    return boto3.client("sagemaker", region_name="us-east-1")


def test_group_creation_is_idempotent(sm):
    first = packages.ensure_group(sm, "rtb-bid-filter", "RTB")
    assert packages.ensure_group(sm, "rtb-bid-filter", "RTB") == first
    assert len(sm.list_model_package_groups()["ModelPackageGroupSummaryList"]) == 1


def test_register_carries_everything_inference_recommender_and_audit_need(sm):
    packages.ensure_group(sm, "rtb-bid-filter", "RTB")
    arn = packages.register_version(sm, registration())
    d = sm.describe_model_package(ModelPackageName=arn)
    container = d["InferenceSpecification"]["Containers"][0]
    assert (container["Framework"], container["FrameworkVersion"], container["Image"]) == ("XGBOOST", "3.0", IMAGE)
    assert d["InferenceSpecification"]["SupportedContentTypes"] == ["text/csv"]
    assert (d["Domain"], d["Task"], d["SamplePayloadUrl"]) == (
        "MACHINE_LEARNING",
        "CLASSIFICATION",
        "s3://bucket/in/payload.tar.gz",
    )
    assert d["ModelApprovalStatus"] == "PendingManualApproval"
    assert d["MetadataProperties"]["CommitId"] == "0123abc"
    assert d["CustomerMetadataProperties"]["model_artifact_sha256"] == "ab" * 32


def test_approve_reject_list_and_latest(sm):
    packages.ensure_group(sm, "rtb-bid-filter", "RTB")
    v1, v2, v3 = (packages.register_version(sm, registration()) for _ in range(3))
    packages.set_approval(sm, v1, packages.APPROVED, "load test passed")
    packages.set_approval(sm, v2, packages.APPROVED, "load test passed")
    packages.set_approval(sm, v2, packages.REJECTED, "AUC regression found in review")
    versions = packages.list_versions(sm, "rtb-bid-filter")
    assert [v.version for v in versions] == [3, 2, 1]
    assert packages.latest_approved(sm, "rtb-bid-filter").arn == v1
    after = packages.describe(sm, v2)
    assert (after.approval_status, after.approval_description) == ("Rejected", "AUC regression found in review")
    assert packages.describe(sm, v3).approval_status == "PendingManualApproval"


def test_metadata_updates_merge_and_keep_approval(sm):
    packages.ensure_group(sm, "rtb-bid-filter", "RTB")
    arn = packages.register_version(sm, registration())
    packages.set_approval(sm, arn, packages.APPROVED, "ok")
    rec = Recommendation(
        "job", "job/1", "ml.c6i.large", 4, 46800, 2.0, 4.2e-8, 0.119, 32760, 2, 20, {"OMP_NUM_THREADS": "2"}
    )
    packages.update_metadata(sm, arn, rec.to_properties())
    after = packages.describe(sm, arn)
    assert after.approval_status == "Approved"
    assert after.customer_metadata["model_artifact_sha256"] == "ab" * 32
    assert Recommendation.from_properties(arn, after.customer_metadata) == rec


def test_metadata_that_aws_would_reject_is_rejected(sm):
    packages.ensure_group(sm, "rtb-bid-filter", "RTB")
    arn = packages.register_version(sm, registration())
    with pytest.raises(ClientError, match="CustomerMetadataProperties value"):
        packages.update_metadata(sm, arn, {"environment": '{"OMP_NUM_THREADS": "2"}'})


def test_bad_status_is_refused_before_any_call(sm):
    with pytest.raises(ValueError, match="approval status must be one of"):
        packages.set_approval(sm, "arn", "Maybe", "x")


def test_no_approved_version():
    sm = boto3.client("sagemaker", region_name="us-east-1")
    from botocore.stub import Stubber

    with Stubber(sm) as stub:
        stub.add_response("list_model_packages", {"ModelPackageSummaryList": []})
        assert packages.latest_approved(sm, "rtb-bid-filter") is None


def test_register_command_validates_uploads_and_registers(moto_aws, example_model, capsys):
    import json

    from emulator import local_image
    from pipelines.cli import main

    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="rtb-mlops-local")
    local_image.publish("123456789012", "us-east-1")
    sets = ["--set", "aws.bucket=rtb-mlops-local", "--set", "aws.role_arn=arn:aws:iam::123456789012:role/x"]
    sets += ["--set", f"serving.image_uri={local_image.uri('123456789012', 'us-east-1')}"]
    args = ["registry", "register", *sets, "--artifact", example_model.model_path, "--payload", example_model.rows_path]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    d = boto3.client("sagemaker", region_name="us-east-1").describe_model_package(ModelPackageName=out["arn"])
    assert d["ModelApprovalStatus"] == "PendingManualApproval"
    assert d["CustomerMetadataProperties"]["model_artifact_sha256"] == example_model.sha256
    assert d["InferenceSpecification"]["Containers"][0]["Image"].endswith("sagemaker-xgboost:3.0-5")
    assert d["AdditionalInferenceSpecifications"][0]["Containers"][0]["Image"].endswith(":local-stand-in")
    assert d["SamplePayloadUrl"].endswith("/payload.tar.gz") and out["artifact"].startswith("s3://rtb-mlops-local/")


def test_register_command_refuses_a_malicious_artifact(moto_aws, tmp_path, capsys):
    import os
    import pickle

    from model_registry.artifact.tarball import write_tar_gz
    from pipelines.cli import main

    class Exploit:
        def __reduce__(self):
            return (os.system, ("true",))

    art = tmp_path / "evil.tar.gz"
    write_tar_gz(art, {"xgboost-model": pickle.dumps(Exploit())})
    rows = tmp_path / "rows.csv"
    rows.write_text("1,2,3,4,5,6,7\n")
    sets = ["--set", "aws.role_arn=arn:aws:iam::123456789012:role/x"]
    assert main(["registry", "register", *sets, "--artifact", str(art), "--payload", str(rows)]) == 2
    assert "refused without loading" in capsys.readouterr().err
    assert boto3.client("sagemaker", region_name="us-east-1").list_model_packages()["ModelPackageSummaryList"] == []


def test_an_update_keeps_the_additional_specifications_and_refuses_a_name_twice(sm):
    packages.ensure_group(sm, "rtb-bid-filter", "RTB")
    arn = packages.register_version(sm, registration())
    packages.update_metadata(sm, arn, {"gate_decision": "passed"})
    assert packages.describe(sm, arn).specifications == {FAST_SPECIFICATION: FAST_IMAGE}
    again = sm.describe_model_package(ModelPackageName=arn)["AdditionalInferenceSpecifications"]
    with pytest.raises(ClientError, match="already has inference specifications"):
        sm.update_model_package(ModelPackageArn=arn, AdditionalInferenceSpecificationsToAdd=again)
