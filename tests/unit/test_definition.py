"""The pipeline definition: built by the SDK, offline, with the gate wired as designed."""

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines import sdk_env
from pipelines.config import load_config

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def definition() -> dict:
    cfg = load_config(REPO / "config" / "pipeline.yaml", environ={})
    sdk_env.prepare(cfg.aws.region, offline=True)
    original = socket.socket.connect

    def refuse(self, address):
        raise AssertionError(f"building the definition tried to connect to {address}")

    socket.socket.connect = refuse
    try:
        from pipelines.definition import definition_json

        return json.loads(definition_json(cfg))
    finally:
        socket.socket.connect = original


def steps_by_name(doc: dict) -> dict:
    out = {}

    def walk(steps):
        for s in steps:
            out[s["Name"]] = s
            walk(s.get("Arguments", {}).get("IfSteps", []))
            walk(s.get("Arguments", {}).get("ElseSteps", []))

    walk(doc["Steps"])
    return out


def test_step_types_and_order(definition):
    assert [s["Name"] for s in definition["Steps"]] == ["RegisterModel", "Parity", "Recommend", "ApprovalGate"]
    s = steps_by_name(definition)
    assert {n: s[n]["Type"] for n in s} == {
        "RegisterModel": "RegisterModel",
        "Parity": "Processing",
        "Recommend": "Processing",
        "ApprovalGate": "Condition",
        "ApprovalMode": "Condition",
        "Approve": "Processing",
        "HoldForManualApproval": "Processing",
        "Reject": "Processing",
        "GateFailed": "Fail",
    }


def test_register_step_has_what_inference_recommender_needs(definition):
    args = steps_by_name(definition)["RegisterModel"]["Arguments"]
    container = args["InferenceSpecification"]["Containers"][0]
    assert container["ModelDataUrl"] == {"Get": "Parameters.ModelArtifactUri"}
    assert container["Image"].endswith("/sagemaker-xgboost:3.0-5")
    assert (container["Framework"], container["FrameworkVersion"]) == ("XGBOOST", "3.0")
    assert args["SamplePayloadUrl"] == {"Get": "Parameters.SamplePayloadUri"}
    assert (args["Domain"], args["Task"], args["ModelApprovalStatus"]) == (
        "MACHINE_LEARNING",
        "CLASSIFICATION",
        "PendingManualApproval",
    )
    assert args["CustomerMetadataProperties"]["model_artifact_sha256"] == {"Get": "Parameters.ModelArtifactSha256"}
    assert args["CustomerMetadataProperties"]["golden_outputs_uri"] == {"Get": "Parameters.GoldenOutputsUri"}
    assert args["CustomerMetadataProperties"]["golden_outputs_sha256"] == {"Get": "Parameters.GoldenOutputsSha256"}
    assert args["MetadataProperties"]["GeneratedBy"] == {"Get": "Execution.PipelineExecutionArn"}
    assert args["MetadataProperties"]["CommitId"] == {"Get": "Parameters.SourceCommit"}


def test_recommend_step_runs_the_step_module_with_a_property_file(definition):
    step = steps_by_name(definition)["Recommend"]
    app = step["Arguments"]["AppSpecification"]
    assert app["ContainerEntrypoint"] == ["python3", "-m", "steps.recommend"]
    flags = app["ContainerArguments"]
    assert flags[flags.index("--model-package-arn") + 1] == {"Get": "Steps.RegisterModel.ModelPackageArn"}
    assert step["PropertyFiles"] == [
        {"PropertyFileName": "RecommendResults", "OutputName": "results", "FilePath": "results.json"}
    ]
    code = step["Arguments"]["ProcessingInputs"][0]["S3Input"]
    assert code["LocalPath"] == "/opt/ml/processing/input/code" and "/code/steps/" in code["S3Uri"]
    assert step["Arguments"]["Environment"]["PYTHONPATH"] == "/opt/ml/processing/input/code"


def test_gate_conditions_read_results_with_jsonget(definition):
    conditions = steps_by_name(definition)["ApprovalGate"]["Arguments"]["Conditions"]
    paths = {c["LeftValue"]["Std:JsonGet"]["Path"]: (c["Type"], c["RightValue"]) for c in conditions}
    assert paths == {
        "candidates.within_sla": ("GreaterThanOrEqualTo", 1),
        "choice.model_latency_ms": ("LessThanOrEqualTo", {"Get": "Parameters.MaxLatencyMs"}),
        "choice.cost_per_inference": ("LessThanOrEqualTo", {"Get": "Parameters.MaxCostPerInference"}),
        "plan.fleet_cost_per_hour": ("LessThanOrEqualTo", {"Get": "Parameters.MaxFleetCostPerHour"}),
        "plan.instance_count": ("LessThanOrEqualTo", {"Get": "Parameters.MaxInstances"}),
        "gate.failed_checks": ("Equals", 0),
    }
    for c in conditions:
        assert c["LeftValue"]["Std:JsonGet"]["PropertyFile"] == {
            "Get": "Steps.Recommend.PropertyFiles.RecommendResults"
        }


def test_three_outcomes(definition):
    s = steps_by_name(definition)
    gate, mode = s["ApprovalGate"]["Arguments"], s["ApprovalMode"]["Arguments"]
    assert [x["Name"] for x in gate["IfSteps"]] == ["ApprovalMode"]
    assert [x["Name"] for x in gate["ElseSteps"]] == ["Reject", "GateFailed"]
    assert mode["Conditions"] == [
        {"Type": "Equals", "LeftValue": {"Get": "Parameters.ApprovalMode"}, "RightValue": "auto"}
    ]
    assert [x["Name"] for x in mode["IfSteps"]] == ["Approve"] and [x["Name"] for x in mode["ElseSteps"]] == [
        "HoldForManualApproval"
    ]
    for name, action in (("Approve", "approve"), ("HoldForManualApproval", "hold"), ("Reject", "reject")):
        flags = s[name]["Arguments"]["AppSpecification"]["ContainerArguments"]
        assert flags[flags.index("--action") + 1] == action
    fail = s["GateFailed"]
    assert fail["DependsOn"] == ["Reject"]
    assert fail["Arguments"]["ErrorMessage"]["Std:Join"]["Values"][1]["Std:JsonGet"]["Path"] == "gate.failure_reason"


def test_parameters(definition):
    params = {p["Name"]: p for p in definition["Parameters"]}
    for supplied_by_run_pipeline in ("ModelArtifactSha256", "GoldenOutputsUri", "GoldenOutputsSha256"):
        assert "DefaultValue" not in params[supplied_by_run_pipeline]
    assert params["ApprovalMode"]["EnumValues"] == ["auto", "manual"]
    assert params["MaxLatencyMs"] == {"Name": "MaxLatencyMs", "Type": "Integer", "DefaultValue": 20}


def test_cli_prints_it_offline_without_credentials(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    }
    script = "import sys; from pipelines.cli import get_pipeline_definition_main as m; sys.exit(m())"
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert out.returncode == 0, out.stderr
    assert [s["Name"] for s in json.loads(out.stdout)["Steps"]] == [
        "RegisterModel",
        "Parity",
        "Recommend",
        "ApprovalGate",
    ]
    assert "telemetry" not in out.stderr.lower()


def test_importing_the_definition_changes_nothing_once_prepared(tmp_path):
    """prepare() is the one call that touches the SDK and logging; the import does neither."""
    script = """
import logging
from pipelines import sdk_env
sdk_env.prepare("us-east-1", offline=True)
from sagemaker.core.config.config_manager import SageMakerConfig
before = (logging.getLogger().level, SageMakerConfig.validate_sagemaker_config)
import pipelines.definition
after = (logging.getLogger().level, SageMakerConfig.validate_sagemaker_config)
assert after == before, (before, after)
assert before[0] == logging.WARNING and before[1].once_per_config
"""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "AWS_CONFIG_FILE": "/dev/null"}
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert out.returncode == 0, out.stderr


def test_register_model_adds_the_fast_image_as_an_additional_specification(definition):
    args = steps_by_name(definition)["RegisterModel"]["Arguments"]
    assert args["InferenceSpecification"]["Containers"][0]["Image"].endswith("/sagemaker-xgboost:3.0-5")
    (fast,) = args["AdditionalInferenceSpecifications"]
    assert fast["Name"] == "rtb-mlops-fast"
    assert fast["Containers"][0]["Image"] == "111122223333.dkr.ecr.us-east-1.amazonaws.com/rtb-mlops-serving:latest"
    assert fast["Containers"][0]["ModelDataUrl"] == {"Get": "Parameters.ModelArtifactUri"}
    assert (
        fast["SupportedRealtimeInferenceInstanceTypes"]
        == args["InferenceSpecification"]["SupportedRealtimeInferenceInstanceTypes"]
    )


def test_parity_runs_in_the_fast_image_and_recommend_reads_its_verdict(definition):
    s = steps_by_name(definition)
    parity = s["Parity"]["Arguments"]
    assert (
        parity["AppSpecification"]["ImageUri"]
        == s["RegisterModel"]["Arguments"]["AdditionalInferenceSpecifications"][0]["Containers"][0]["Image"]
    )
    # By path, with no PYTHONPATH: the image's own serving/ and model_registry are imported.
    assert parity["AppSpecification"]["ContainerEntrypoint"] == [
        "python3",
        "/opt/ml/processing/input/code/steps/parity_step.py",
    ]
    assert "PYTHONPATH" not in (parity.get("Environment") or {})
    inputs = {i["InputName"]: i["S3Input"]["S3Uri"] for i in parity["ProcessingInputs"]}
    assert inputs["model"] == {"Get": "Parameters.ModelArtifactUri"}
    assert inputs["payload"] == {"Get": "Parameters.SamplePayloadUri"}
    recommend = s["Recommend"]["Arguments"]
    parity_in = next(i for i in recommend["ProcessingInputs"] if i["InputName"] == "parity")
    assert parity_in["S3Input"]["S3Uri"] == {
        "Get": "Steps.Parity.ProcessingOutputConfig.Outputs['parity'].S3Output.S3Uri"
    }
    args = recommend["AppSpecification"]["ContainerArguments"]
    assert args[args.index("--parity-dir") + 1] == parity_in["S3Input"]["LocalPath"]
