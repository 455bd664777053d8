"""The real model deploy pipeline (pipelines/templates/cicd.yaml) on the emulator, one approved
version shared by the module: its execution deploys staging, passes the golden check and a short
load test and waits for a person. Then: a second approval waits behind it and cannot be promoted
in its place; a rejection stops it with production untouched; re-running the version with golden
outputs that another artifact gives fails the staging stage at the check; a failed load-test
verdict stops the stage before the approval."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from model_registry import packages
from model_registry.aws import client
from model_registry.contract import GOLDEN_OUTPUTS_SHA256, GOLDEN_OUTPUTS_URI
from model_registry.names import PIPELINE_PACKAGE_VARIABLE, staging_endpoint_name
from pipelines.cli import main
from pipelines.local_codepipeline import (
    CodePipelineRun,
    action_results,
    awaiting,
    build_log,
    deploy_stacks,
    endpoints,
    follow,
    started_execution,
)
from pipelines.local_run import run_pipeline
from tests.integration.test_flow import config

pytestmark = pytest.mark.integration
# rtb-mlops-*: the ML engineer may stop executions of the project's pipelines only.
NAME = "rtb-mlops-cpf"
# Staging's short load test here: a rate one instance holds (the session emulator models the fleet 1:1).
LOADTEST_ARGS = "--duration 10 --base-rps 10 --peak-rps 10 --grace-seconds 4"


@pytest.fixture(scope="module")
def waiting(emulator, example_model):
    """The first approval's execution, waiting at ApproveProduction."""
    cfg = config(NAME, "deploy.path=codepipeline", example_model=example_model)
    outputs = deploy_stacks(cfg, LOADTEST_ARGS)
    execution, results = run_pipeline(cfg, io.StringIO())
    assert execution.status == "Succeeded", execution.failure_reason
    run = CodePipelineRun(pipeline=outputs["ModelDeployPipelineName"], package_arn=results["job"]["model_package_arn"])
    cp = client("codepipeline", cfg.aws.region)
    run.execution_id = started_execution(cp, run.pipeline, run.package_arn, timeout=120)
    follow(cp, run, io.StringIO(), until=lambda: awaiting(cp, run), refused=list, timeout=400)
    failed = [a for a in action_results(cp, run.pipeline, run.execution_id) if a.status == "Failed"]
    assert not run.status, "\n".join([str(failed), *build_log(failed, cfg.aws.region, last=60)])
    return cfg, outputs, run


def _cli(cfg, *argv: str) -> int:
    """`rtb-mlops ...` as the person, with the module's configuration."""
    settings = {
        "aws.bucket": cfg.aws.bucket,
        "aws.role_arn": cfg.aws.role_arn,
        "registry.model_package_group": cfg.registry.model_package_group,
        "deploy.endpoint_name": cfg.deploy.endpoint_name,
        "model.artifact": cfg.model.artifact,
        "model.sample_payload": cfg.model.sample_payload,
        "serving.image_uri": cfg.serving.image_uri,
    }
    return main([*argv, *(arg for k, v in settings.items() for arg in ("--set", f"{k}={v}"))])


def _statuses(cp, run: CodePipelineRun, execution_id: str) -> dict[str, str]:
    return {a.action: a.status for a in action_results(cp, run.pipeline, execution_id)}


def _execution(cp, pipeline: str, execution_id: str) -> dict:
    return cp.get_pipeline_execution(pipelineName=pipeline, pipelineExecutionId=execution_id)["pipelineExecution"]


def _staging_serves(cfg) -> str:
    sm = client("sagemaker", cfg.aws.region)
    endpoint = sm.describe_endpoint(EndpointName=staging_endpoint_name(cfg.deploy.endpoint_name))
    return endpoint["EndpointConfigName"]


def test_staging_passed_its_checks_and_the_approval_names_the_version(waiting):
    _, _, run = waiting
    cp = client("codepipeline")
    assert _statuses(cp, run, run.execution_id) == {
        "Source": "Succeeded",
        "DeployStaging": "Succeeded",
        "GoldenCheck": "Succeeded",
        "LoadTest": "Succeeded",
        "ApproveProduction": "InProgress",
    }
    assert run.package_arn in run.approval_message and "Load test: passed" in run.approval_message


def test_a_second_approval_waits_and_cannot_be_promoted_in_place_of_the_first(waiting):
    cfg, _, run = waiting
    cp = client("codepipeline")
    staging_before = _staging_serves(cfg)
    assert _cli(cfg, "registry", "register") == 0
    second = packages.list_versions(client("sagemaker"), NAME)[0].arn
    assert second != run.package_arn
    assert _cli(cfg, "registry", "approve", second, "--description", "second version") == 0
    later = started_execution(cp, run.pipeline, second, timeout=60)
    try:
        # Queued behind the first: staging still serves the first version, the approval is the first's.
        state = {s["stageName"]: s for s in cp.get_pipeline_state(name=run.pipeline)["stageStates"]}
        assert state["Staging"]["latestExecution"]["pipelineExecutionId"] == run.execution_id
        assert _execution(cp, run.pipeline, later)["status"] == "InProgress"
        assert "DeployStaging" not in _statuses(cp, run, later)
        assert _staging_serves(cfg) == staging_before
        # The person cannot promote the second in the first's place, nor the first under the second's ARN.
        assert _cli(cfg, "promote", "--approve", later) == 2
        assert _cli(cfg, "promote", "--approve", run.execution_id, "--model-package-arn", second) == 2
        assert _statuses(cp, run, run.execution_id)["ApproveProduction"] == "InProgress"
    finally:
        cp.stop_pipeline_execution(pipelineName=run.pipeline, pipelineExecutionId=later, abandon=True)


def test_a_rejection_stops_the_execution_and_leaves_production_untouched(waiting):
    cfg, _, run = waiting
    cp = client("codepipeline")
    assert _cli(cfg, "promote", "--reject", run.execution_id, "--summary", "not this one") == 0
    follow(cp, run, io.StringIO(), until=lambda: False, refused=list, timeout=60)
    assert run.status == "Failed"
    statuses = _statuses(cp, run, run.execution_id)
    assert statuses["ApproveProduction"] == "Failed"
    assert "DeployProduction" not in statuses and "Audit" not in statuses
    assert list(endpoints(cfg)) == [staging_endpoint_name(cfg.deploy.endpoint_name)]


def _rerun(cp, run: CodePipelineRun) -> CodePipelineRun:
    """The same approved version through the pipeline again (as the start function starts it)."""
    again = CodePipelineRun(pipeline=run.pipeline, package_arn=run.package_arn)
    again.execution_id = cp.start_pipeline_execution(
        name=run.pipeline, variables=[{"name": PIPELINE_PACKAGE_VARIABLE, "value": run.package_arn}]
    )["pipelineExecutionId"]
    follow(cp, again, io.StringIO(), until=lambda: awaiting(cp, again), refused=list, timeout=300)
    return again


def test_golden_outputs_of_another_artifact_fail_the_staging_stage_at_the_check(waiting, second_model, tmp_path):
    from model_registry import golden
    from model_registry.artifact.golden import golden_record
    from model_registry.artifact.tarball import write_tar_gz

    _, _, run = waiting
    sm, s3, cp = client("sagemaker"), client("s3"), client("codepipeline")
    metadata = packages.describe(sm, run.package_arn).customer_metadata
    uri, recorded = metadata[GOLDEN_OUTPUTS_URI], metadata[GOLDEN_OUTPUTS_SHA256]
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    rows = golden.GoldenRecord.from_bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read(), uri).rows
    # What the endpoint's answers are compared with once the artifact was swapped after registration.
    payload = tmp_path / "rows.tar.gz"
    write_tar_gz(payload, {"rows.csv": ("\n".join(rows) + "\n").encode()})
    other = golden_record(Path(second_model), payload).to_bytes()
    other_key = key.rsplit("/", 2)[0] + "/other-cpf/golden.json"
    s3.put_object(Bucket=bucket, Key=other_key, Body=other)
    swapped = {GOLDEN_OUTPUTS_URI: f"s3://{bucket}/{other_key}", GOLDEN_OUTPUTS_SHA256: golden.sha256_of(other)}
    packages.update_metadata(sm, run.package_arn, swapped)
    try:
        again = _rerun(cp, run)
    finally:
        packages.update_metadata(sm, run.package_arn, {GOLDEN_OUTPUTS_URI: uri, GOLDEN_OUTPUTS_SHA256: recorded})
    assert again.status == "Failed"
    statuses = _statuses(cp, again, again.execution_id)
    assert statuses["DeployStaging"] == "Succeeded" and statuses["GoldenCheck"] == "Failed"
    assert "LoadTest" not in statuses and "ApproveProduction" not in statuses


def test_a_failed_load_test_verdict_stops_before_the_approval(waiting):
    cfg, _, run = waiting
    cp = client("codepipeline")
    # A p99 SLA no server meets: the stack's LoadTestArgs, as an operator would tighten them.
    deploy_stacks(cfg, LOADTEST_ARGS + " --sla-ms 0.0001")
    try:
        again = _rerun(cp, run)
    finally:
        deploy_stacks(cfg, LOADTEST_ARGS)
    assert again.status == "Failed"
    statuses = _statuses(cp, again, again.execution_id)
    assert statuses["GoldenCheck"] == "Succeeded" and statuses["LoadTest"] == "Failed"
    assert "ApproveProduction" not in statuses
