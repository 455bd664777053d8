"""The golden-request check on the shared auto-approval flow: the endpoint answers as the
artifact did at registration; golden outputs from another artifact fail with the rows that
differ; a tampered golden object is refused; the audit shows the newest check. Everything
changed here is put back before the test ends."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest

from model_registry import golden, packages
from model_registry.artifact.golden import golden_record
from model_registry.artifact.tarball import write_tar_gz
from model_registry.audit.collect import Clients, collect
from model_registry.audit.findings import evaluate
from model_registry.contract import GOLDEN_OUTPUTS_SHA256, GOLDEN_OUTPUTS_URI
from pipelines.cli import main

pytestmark = pytest.mark.integration
NAME = "flow-auto"


def audit():
    return evaluate(collect(Clients(boto3.client("sagemaker"), boto3.client("s3")), endpoint=NAME))


def test_golden_check_passes_then_fails_on_another_artifacts_outputs(auto_flow, second_model, tmp_path, capsys):
    sm, s3 = boto3.client("sagemaker"), boto3.client("s3")
    package = packages.latest_approved(sm, NAME)
    metadata = packages.describe(sm, package.arn).customer_metadata
    uri, recorded = metadata[GOLDEN_OUTPUTS_URI], metadata[GOLDEN_OUTPUTS_SHA256]
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    original = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    assert golden.sha256_of(original) == recorded

    assert main(["check", "--endpoint", NAME, "--model-package-arn", package.arn]) == 0
    assert "golden check: passed" in capsys.readouterr().out

    # Golden outputs that another artifact gives for the same rows: what the endpoint serves
    # once the registered artifact was swapped after registration.
    rows = golden.GoldenRecord.from_bytes(original, uri).rows
    payload = tmp_path / "rows.tar.gz"
    write_tar_gz(payload, {"rows.csv": ("\n".join(rows) + "\n").encode()})
    other = golden_record(Path(second_model), payload).to_bytes()
    other_key = key.rsplit("/", 2)[0] + "/other/golden.json"
    s3.put_object(Bucket=bucket, Key=other_key, Body=other)
    packages.update_metadata(
        sm,
        package.arn,
        {GOLDEN_OUTPUTS_URI: f"s3://{bucket}/{other_key}", GOLDEN_OUTPUTS_SHA256: golden.sha256_of(other)},
    )
    try:
        assert main(["check", "--endpoint", NAME]) == 1
        err = capsys.readouterr().err
        assert "golden check: FAILED" in err and f"row 1: {rows[0]} -> served" in err
        assert {f.code for f in audit().findings} == {"GOLDEN_CHECK_FAILED"}

        # Tampered: the object's bytes are not the ones the package recorded.
        s3.put_object(Bucket=bucket, Key=other_key, Body=original)
        assert main(["check", "--endpoint", NAME]) == 2
        assert "changed after registration" in capsys.readouterr().err
    finally:
        packages.update_metadata(sm, package.arn, {GOLDEN_OUTPUTS_URI: uri, GOLDEN_OUTPUTS_SHA256: recorded})

    # Another package than the one serving is refused before anything is sent.
    assert main(["check", "--endpoint", NAME, "--model-package-arn", package.arn[:-1] + "9"]) == 2
    assert main(["check", "--endpoint", NAME]) == 0
    a = audit()
    assert a.findings == [] and a.golden_check.verdict == "passed" and a.golden_check.endpoint == NAME
