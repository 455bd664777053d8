"""CloudWatch, Application Auto Scaling and blue/green auto-rollback on the emulator, on its
compressed clock: a load test that scales a variant out, and an update rolled back on alarm."""

from __future__ import annotations

import json
import time

import boto3
import numpy as np
import pytest
import xgboost as xgb
from botocore.exceptions import ClientError

from model_registry.artifact.tarball import write_tar_gz
from model_registry.artifact.validate import MODEL_FILE_NAME
from model_registry.names import VARIANT, scaling_resource_id
from pipelines.cli import main
from pipelines.commands.invoke import invoke
from tests.integration.endpoints import update_when_ready

pytestmark = pytest.mark.integration
ROW = b"4,7,0,0,0,39,1"


def _wait(what: str, check, seconds: float = 90.0, every: float = 0.3):
    deadline = time.monotonic() + seconds
    while not (found := check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(every)
    return found


def _eight_feature_artifact(path) -> str:
    """A model built for eight features: the endpoint's seven-value rows are client errors to it."""
    rng = np.random.default_rng(0)
    data = xgb.DMatrix(rng.random((200, 8)), label=rng.integers(0, 2, 200))
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 2}, data, num_boost_round=3)
    write_tar_gz(path, {MODEL_FILE_NAME: bytes(booster.save_raw("json"))})
    return str(path)


def test_an_update_whose_alarm_fires_while_baking_is_rolled_back(auto_flow, tmp_path):
    cfg, _, _, endpoint = auto_flow
    sm, cw = boto3.client("sagemaker"), boto3.client("cloudwatch")
    name, serving_config = cfg.deploy.endpoint_name, endpoint["EndpointConfigName"]
    before = invoke(name, ROW)
    config = sm.describe_endpoint_config(EndpointConfigName=serving_config)
    model = sm.describe_model(ModelName=config["ProductionVariants"][0]["ModelName"])
    key = "monitoring/eight-features/model.tar.gz"
    boto3.client("s3").upload_file(_eight_feature_artifact(tmp_path / "model.tar.gz"), cfg.aws.bucket, key)
    # serving/'s image, which refuses a row of the wrong width (4XX); the stock XGBoost request path
    # would score a seven-value row on an eight-feature model without an error.
    container = {"Image": cfg.serving.image_uri, "ModelDataUrl": f"s3://{cfg.aws.bucket}/{key}"}
    sm.create_model(ModelName=f"{name}-broken", PrimaryContainer=container, ExecutionRoleArn=model["ExecutionRoleArn"])
    variant = {**config["ProductionVariants"][0], "ModelName": f"{name}-broken"}
    sm.create_endpoint_config(EndpointConfigName=f"{name}-broken", ProductionVariants=[variant])
    alarm = f"{name}-client-errors"
    cw.put_metric_alarm(
        AlarmName=alarm, Namespace="AWS/SageMaker", MetricName="Invocation4XXErrors", Statistic="Sum",
        Dimensions=[{"Name": "EndpointName", "Value": name}, {"Name": "VariantName", "Value": VARIANT}],
        Period=60, EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanOrEqualToThreshold",
        TreatMissingData="notBreaching",
    )  # fmt: skip
    try:
        update_when_ready(
            sm,
            EndpointName=name,
            EndpointConfigName=f"{name}-broken",
            DeploymentConfig={
                "BlueGreenUpdatePolicy": {
                    "TrafficRoutingConfiguration": {
                        "Type": "CANARY", "WaitIntervalInSeconds": 300,
                        "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 50},
                    },
                    "TerminationWaitInSeconds": 120,
                },
                "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": alarm}]},
            },
        )  # fmt: skip
        statuses, failures = set(), 0

        def rolled_back() -> bool:
            nonlocal failures
            try:
                invoke(name, ROW)
            except ClientError as err:
                assert err.response["Error"]["Code"] == "ModelError"
                failures += 1
            statuses.add(sm.describe_endpoint(EndpointName=name)["EndpointStatus"])
            return "RollingBack" in statuses and statuses >= {"Updating"} and _in_service(sm, name)

        _wait("the rollback", rolled_back, every=0.1)
    finally:
        cw.delete_alarms(AlarmNames=[alarm])
    described = sm.describe_endpoint(EndpointName=name)
    assert described["EndpointConfigName"] == serving_config
    assert alarm in described["FailureReason"]
    assert failures >= 1  # the canary's half of the traffic reached the broken version
    assert invoke(name, ROW) == before


def _in_service(sm, name: str) -> bool:
    return sm.describe_endpoint(EndpointName=name)["EndpointStatus"] == "InService"


def test_alarm_state_changes_show_in_describe_alarms(auto_flow):
    cfg, _, _, _ = auto_flow
    cw, name = boto3.client("cloudwatch"), cfg.deploy.endpoint_name
    alarm = f"{name}-any-traffic"
    cw.put_metric_alarm(
        AlarmName=alarm, Namespace="AWS/SageMaker", MetricName="Invocations", Statistic="Sum",
        Dimensions=[{"Name": "EndpointName", "Value": name}, {"Name": "VariantName", "Value": VARIANT}],
        Period=60, EvaluationPeriods=1, Threshold=0, ComparisonOperator="GreaterThanThreshold",
    )  # fmt: skip
    try:

        def alarmed():
            invoke(name, ROW)
            [found] = cw.describe_alarms(AlarmNames=[alarm])["MetricAlarms"]
            return found if found["StateValue"] == "ALARM" else None

        found = _wait("the alarm", alarmed)
        assert "Threshold Crossed" in found["StateReason"]
        assert json.loads(found["StateReasonData"])["recentDatapoints"][-1] > 0
    finally:
        cw.delete_alarms(AlarmNames=[alarm])


def test_loadtest_sees_target_tracking_scale_the_variant_out(auto_flow, tmp_path, capsys):
    _cfg, _, _, endpoint = auto_flow
    sm, aas = boto3.client("sagemaker"), boto3.client("application-autoscaling")
    name = "flow-load"
    variant = sm.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])["ProductionVariants"][0]
    sm.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[{**variant, "InitialInstanceCount": 1}])
    sm.create_endpoint(EndpointName=name, EndpointConfigName=name)
    _wait("flow-load in service", lambda: _in_service(sm, name), seconds=120)
    resource = scaling_resource_id(name, VARIANT)
    common = {"ServiceNamespace": "sagemaker", "ResourceId": resource,
              "ScalableDimension": "sagemaker:variant:DesiredInstanceCount"}  # fmt: skip
    aas.register_scalable_target(**common, MinCapacity=1, MaxCapacity=4)
    # 600 invocations per instance per minute: 10 requests/s, which one server here holds easily.
    aas.put_scaling_policy(
        **common, PolicyName=f"{name}-invocations", PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": 600.0, "ScaleInCooldown": 300, "ScaleOutCooldown": 60,
            "PredefinedMetricSpecification": {"PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"},
        },
    )  # fmt: skip
    alarms = boto3.client("cloudwatch").describe_alarms(AlarmNamePrefix=f"TargetTracking-{resource}-")["MetricAlarms"]
    assert sorted(a["AlarmName"].split("-")[-6] for a in alarms) == ["AlarmHigh", "AlarmLow"]
    try:
        code = main(["loadtest", "--endpoint", name, "--profile", "step", "--base-rps", "4", "--peak-rps", "40",
                     "--duration", "60", "--report", str(tmp_path)])  # fmt: skip
    finally:
        sm.delete_endpoint(EndpointName=name)
    captured = capsys.readouterr()
    out = captured.out
    assert code == 0, out + captured.err
    report = json.loads((tmp_path / "report.json").read_text())
    assert {"t_seconds", "rps", "p50_ms", "p99_ms", "model_latency_p99_ms", "errors", "instances"} <= set(
        report["timeline"][0]
    )
    # The instances' CPU and memory, from /aws/sagemaker/Endpoints: real model servers under load.
    assert max(p["cpu_utilization"] or 0 for p in report["timeline"]) > 0
    assert all(0 < p["memory_utilization"] < 100 for p in report["timeline"] if p["memory_utilization"] is not None)
    assert report["cloudwatch"]["cpu"] and report["cloudwatch"]["memory"]
    rises = [e for e in report["scale_events"] if e["to"] > e["from"]]
    assert rises and rises[0]["t_seconds"] >= report["profile"]["step_at_seconds"]
    assert report["scale_out_seconds"] is not None
    assert report["verdict"]["passed"] and "PASS scaling: new capacity serving" in out
    assert (tmp_path / "loadtest.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
