"""Golden requests: computed at registration from the artifact, refused when tampered with,
compared within a tolerance; `rtb-mlops check` against Stubber (SageMaker, the runtime) and
moto (S3)."""

from __future__ import annotations

import io
import math
from pathlib import Path

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from model_registry import golden
from model_registry.artifact.golden import golden_record
from model_registry.artifact.tarball import write_tar_gz
from pipelines import golden_check
from tests.conftest import GUIDANCE_ROW, GUIDANCE_SCORE

ENDPOINT = "rtb-bid-filter-staging"
PACKAGE = "arn:aws:sagemaker:us-east-1:123456789012:model-package/rtb-bid-filter/3"
BUCKET = "rtb-mlops-local"


def test_expected_outputs_are_xgboosts_for_the_guidance_row(guidance_model, tmp_path):
    payload = tmp_path / "payload.tar.gz"
    write_tar_gz(payload, {"a.csv": GUIDANCE_ROW + b"\n", "b.csv": b"6,20,4,90,0,1,4\n2,0,0.0,7.0,3.0,20.0,2\n"})
    record = golden_record(guidance_model, payload)
    assert record.rows == ("2,0,0.0,7.0,3.0,20.0,2", "6,20,4,90,0,1,4", "2,0,0.0,7.0,3.0,20.0,2")
    assert record.expected[0] == pytest.approx(GUIDANCE_SCORE, abs=1e-8)
    assert record.expected[2] == record.expected[0] and record.expected[1] != record.expected[0]
    assert len(record.artifact_sha256) == 64


def test_the_record_round_trips_bit_for_bit_and_refuses_other_bytes():
    record = golden.GoldenRecord(("1,2", "3,4"), (0.1 + 0.2, 1 / 3), "ab" * 32, "3.0.5")
    data = record.to_bytes()
    assert golden.verified(data, golden.sha256_of(data), "s3://b/golden.json") == record
    tampered = data.replace(b"0.3", b"0.4")
    with pytest.raises(golden.InvalidGolden, match="changed after registration"):
        golden.verified(tampered, golden.sha256_of(data), "s3://b/golden.json")
    with pytest.raises(golden.InvalidGolden, match="not a golden-requests record"):
        golden.GoldenRecord.from_bytes(b'{"format": "other"}', "s3://b/x")


def test_compare_names_rows_beyond_the_tolerance_and_missing_answers():
    record = golden.GoldenRecord(("r1", "r2", "r3", "r4"), (0.5, 0.25, 0.125, 0.0625), "ab" * 32, "3.0.5")
    served = [0.5 + 5e-7, 0.25 + 2e-6, float("nan")]
    bad = golden.compare(record, served, 1e-6)
    assert [(m.index, m.row) for m in bad] == [(1, "r2"), (2, "r3"), (3, "r4")]
    assert bad[2].served is None and "no answer" in bad[2].describe()
    assert "row 2: r2 -> served" in bad[0].describe()
    assert golden.max_difference(record, served) == pytest.approx(2e-6)
    assert golden.compare(record, [0.5, 0.25, 0.125, 0.0625], 0.0) == []


def _body(text: str) -> StreamingBody:
    raw = text.encode()
    return StreamingBody(io.BytesIO(raw), len(raw))


def _describe_chain(stub: Stubber, metadata: dict[str, str], package: str = PACKAGE) -> None:
    """DescribeEndpoint -> DescribeEndpointConfig -> DescribeModel -> DescribeModelPackage, API shapes."""
    stub.add_response(
        "describe_endpoint",
        {
            "EndpointName": ENDPOINT,
            "EndpointArn": f"arn:aws:sagemaker:us-east-1:123456789012:endpoint/{ENDPOINT}",
            "EndpointConfigName": f"{ENDPOINT}-rtb-bid-filter-v3",
            "EndpointStatus": "InService",
            "CreationTime": "2026-11-30T12:00:00Z",
            "LastModifiedTime": "2026-11-30T12:00:00Z",
        },
        {"EndpointName": ENDPOINT},
    )
    stub.add_response(
        "describe_endpoint_config",
        {
            "EndpointConfigName": f"{ENDPOINT}-rtb-bid-filter-v3",
            "EndpointConfigArn": f"arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/{ENDPOINT}-rtb-bid-filter-v3",
            "ProductionVariants": [
                {
                    "VariantName": "AllTraffic",
                    "ModelName": f"{ENDPOINT}-rtb-bid-filter-v3",
                    "InstanceType": "ml.c5.large",
                }
            ],
            "CreationTime": "2026-11-30T12:00:00Z",
        },
    )
    stub.add_response(
        "describe_model",
        {
            "ModelName": f"{ENDPOINT}-rtb-bid-filter-v3",
            "ModelArn": f"arn:aws:sagemaker:us-east-1:123456789012:model/{ENDPOINT}-rtb-bid-filter-v3",
            "PrimaryContainer": {"ModelPackageName": package},
            "CreationTime": "2026-11-30T12:00:00Z",
        },
    )
    stub.add_response(
        "describe_model_package",
        {
            "ModelPackageName": "rtb-bid-filter",
            "ModelPackageGroupName": "rtb-bid-filter",
            "ModelPackageVersion": 3,
            "ModelPackageArn": package,
            "CreationTime": "2026-11-30T11:00:00Z",
            "ModelPackageStatus": "Completed",
            "ModelPackageStatusDetails": {"ValidationStatuses": [], "ImageScanStatuses": []},
            "ModelApprovalStatus": "Approved",
            "CustomerMetadataProperties": metadata,
        },
    )


@pytest.fixture
def stored(moto_aws):
    """A golden record in S3 and the metadata that names it."""
    record = golden.GoldenRecord(("4,7,0,0,0,39,1", "6,20,4,90,0,1,4"), (0.125, 0.75), "ab" * 32, "3.0.5")
    data = record.to_bytes()
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="rtb-mlops/inputs/0123/golden.json", Body=data)
    metadata = {
        "golden_outputs_uri": f"s3://{BUCKET}/rtb-mlops/inputs/0123/golden.json",
        "golden_outputs_sha256": golden.sha256_of(data),
    }
    return s3, metadata


def _check(s3, metadata, answer: str | None, package_arn: str | None = PACKAGE, served_package: str = PACKAGE):
    sm = boto3.client("sagemaker", region_name="us-east-1")
    runtime = boto3.client("sagemaker-runtime", region_name="us-east-1")
    with Stubber(sm) as sm_stub, Stubber(runtime) as rt_stub:
        _describe_chain(sm_stub, metadata, served_package)
        if answer is not None:
            rt_stub.add_response(
                "invoke_endpoint",
                {"Body": _body(answer), "ContentType": "text/csv"},
                {
                    "EndpointName": ENDPOINT,
                    "Body": b"4,7,0,0,0,39,1\n6,20,4,90,0,1,4\n",
                    "ContentType": "text/csv",
                    "Accept": "text/csv",
                },
            )
        result, _ = golden_check.check(sm, s3, runtime, ENDPOINT, 1e-6, package_arn)
        rt_stub.assert_no_pending_responses()
    return result


def test_a_clean_endpoint_passes(stored):
    result = _check(*stored, "0.1250000001\n0.75\n")
    assert result.passed and result.rows == 2 and result.max_abs_diff < 1e-6
    assert result.properties()["verdict"] == "passed"


def test_a_differing_row_fails_and_is_named(stored):
    result = _check(*stored, "0.125\n0.7501\n")
    assert not result.passed
    assert [m.row for m in result.mismatches] == ["6,20,4,90,0,1,4"]
    assert result.properties()["mismatched_rows"] == "1"


def test_a_tampered_golden_object_is_refused(stored):
    s3, metadata = stored
    s3.put_object(Bucket=BUCKET, Key="rtb-mlops/inputs/0123/golden.json", Body=b'{"format": "forged"}')
    with pytest.raises(golden_check.CheckRefused, match="changed after registration"):
        _check(s3, metadata, None)


def test_another_package_than_the_approved_one_is_refused(stored):
    other = PACKAGE[:-1] + "4"
    with pytest.raises(golden_check.CheckRefused, match="not " + PACKAGE):
        _check(*stored, None, package_arn=PACKAGE, served_package=other)


def test_a_package_without_golden_outputs_is_refused(stored):
    with pytest.raises(golden_check.CheckRefused, match="has no golden outputs"):
        _check(stored[0], {}, None)


def test_cli_exit_status_and_rows(stored, monkeypatch, capsys):
    from pipelines.cli import main

    monkeypatch.setattr(golden_check, "record", lambda *a, **k: "arn:aws:sagemaker:us-east-1:1:action/x")
    result = _check(*stored, "0.125\n0.9\n")
    monkeypatch.setattr(golden_check, "check", lambda *a, **k: (result, None))
    assert main(["check", "--endpoint", ENDPOINT]) == 1
    err = capsys.readouterr().err
    assert "1 of 2 rows differ" in err and "row 2: 6,20,4,90,0,1,4 -> served 0.9, expected 0.75" in err
    assert main(["check", "--endpoint", ENDPOINT, "--tolerance", "-1"]) == 2


def test_registration_writes_the_golden_object_the_package_names(moto_aws, example_model, tmp_path):
    from pipelines.config import load_config
    from pipelines.inputs import resolve
    from tests.conftest import REPO

    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    cfg = load_config(str(REPO / "config/pipeline.yaml"), [f"aws.bucket={BUCKET}"], environ={})
    inputs = resolve(cfg, s3, example_model.model_path, example_model.payload_path)
    bucket, _, key = inputs.golden_uri.removeprefix("s3://").partition("/")
    data = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    record = golden.verified(data, inputs.golden_sha256, inputs.golden_uri)
    assert record.artifact_sha256 == inputs.sha256 and key.endswith("/golden.json")
    assert record == golden_record(Path(example_model.model_path), Path(example_model.payload_path))
    assert all(0 <= v <= 1 and math.isfinite(v) for v in record.expected)
