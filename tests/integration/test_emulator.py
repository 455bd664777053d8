"""The emulator's own promises: AWS error shapes, endpoints that fail honestly, one instance,
the dead-letter queue, 127.0.0.1 only."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import tarfile
import time
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from emulator import local_image
from model_registry import packages
from model_registry.artifact.tarball import write_tar_gz
from model_registry.artifact.validate import MODEL_FILE_NAME
from tests.unit.test_registry import registration

pytestmark = pytest.mark.integration


def sm():
    return boto3.client("sagemaker", region_name="us-east-1")


def wait_status(name: str, wanted: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        d = sm().describe_endpoint(EndpointName=name)
        if d["EndpointStatus"] == wanted:
            return d
        assert time.monotonic() < deadline, f"{name} still {d['EndpointStatus']}"
        time.sleep(0.3)


# serving/'s image: these tests are about our server behind an endpoint (the stock XGBoost image
# gets the stock request path, which scores a short row as if its missing fields were missing values).
FAST_IMAGE = local_image.uri("123456789012", "us-east-1")


def model_for(name: str, artifact_uri: str) -> str:
    client = sm()
    client.create_model(ModelName=name, ExecutionRoleArn="arn:aws:iam::123456789012:role/rtb-mlops-sagemaker-execution",
                        PrimaryContainer={"Image": FAST_IMAGE, "ModelDataUrl": artifact_uri})  # fmt: skip
    client.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[
        {"VariantName": "AllTraffic", "ModelName": name, "InstanceType": "ml.c6i.large", "InitialInstanceCount": 1}])  # fmt: skip
    return name


@pytest.fixture(scope="module")
def bucket(emulator):
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="rtb-mlops-emulator-checks")
    return "rtb-mlops-emulator-checks"


def upload(bucket: str, key: str, path: Path) -> str:
    boto3.client("s3").upload_file(str(path), bucket, key)
    return f"s3://{bucket}/{key}"


def test_listens_on_loopback_only_and_a_second_up_reports_the_first(emulator):
    from emulator import control

    assert emulator.url.startswith("http://127.0.0.1:")
    again, started = control.up(int(emulator.url.rsplit(":", 1)[1]), Path(os.environ["RTB_MLOPS_EMULATOR_HOME"]))
    assert not started and again.pid == emulator.pid


@pytest.mark.parametrize(
    ("call", "code"),
    [
        (lambda c: c.describe_inference_recommendations_job(JobName="nope"), "ResourceNotFound"),
        (lambda c: c.describe_pipeline_execution(PipelineExecutionArn="arn:aws:sagemaker:us-east-1:123456789012:pipeline/x/execution/y"), "ResourceNotFound"),
        (lambda c: c.start_pipeline_execution(PipelineName="no-such-pipeline", ClientRequestToken="t" * 32), "ResourceNotFound"),
        (lambda c: c.create_inference_recommendations_job(JobName="j", JobType="Default", RoleArn="arn:aws:iam::123456789012:role/rtb-mlops-r",
                   InputConfig={"ModelPackageVersionArn": "arn:aws:sagemaker:us-east-1:123456789012:model-package/none/1"}), "ValidationException"),
        (lambda c: c.update_endpoint(EndpointName="nope", EndpointConfigName="nope"), "ValidationException"),
    ],
)  # fmt: skip
def test_unknown_resources_get_aws_error_codes(emulator, call, code):
    with pytest.raises(ClientError) as err:
        call(sm())
    assert err.value.response["Error"]["Code"] == code


def test_invoking_an_unknown_endpoint(emulator):
    runtime = boto3.client("sagemaker-runtime", region_name="us-east-1")
    with pytest.raises(ClientError) as err:
        runtime.invoke_endpoint(EndpointName="nowhere", Body=b"1,2", ContentType="text/csv")
    assert err.value.response["Error"]["Code"] == "ValidationError"
    assert "Endpoint nowhere of account 123456789012 not found" in str(err.value)


def test_model_errors_come_back_as_model_error(emulator, bucket, example_model):
    name = model_for("checks-modelerror", upload(bucket, "m/model.tar.gz", Path(example_model.model_path)))
    sm().create_endpoint(EndpointName=name, EndpointConfigName=name)
    wait_status(name, "InService")
    runtime = boto3.client("sagemaker-runtime", region_name="us-east-1")
    with pytest.raises(ClientError) as err:
        runtime.invoke_endpoint(EndpointName=name, Body=b"1,2", ContentType="text/csv")
    assert err.value.response["Error"]["Code"] == "ModelError"
    assert "2 fields, expected 7" in str(err.value)


def test_a_model_that_cannot_load_marks_the_endpoint_failed(emulator, bucket, tmp_path):
    broken = tmp_path / "broken.tar.gz"
    write_tar_gz(broken, {"xgboost-model": b"not a model"})
    name = model_for("checks-broken", upload(bucket, "broken/model.tar.gz", broken))
    sm().create_endpoint(EndpointName=name, EndpointConfigName=name)
    failed = wait_status(name, "Failed")
    assert "model server" in failed["FailureReason"] and "not an XGBoost model" in failed["FailureReason"]


def _servers_of(pid: int, artifact: bytes) -> list[int]:
    """The emulator's model servers for this artifact: it serves a local copy named by the
    content's digest, so other endpoints' servers (the shared flow's scale out at any time) are
    never taken for this one's."""
    digest = hashlib.sha256(artifact).hexdigest()[:16].encode()
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().split()
                cmd = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if int(stat[3]) == pid and digest in cmd:
                out.append(int(entry.name))
    return out


def test_a_model_server_that_dies_marks_its_endpoint_failed(emulator, bucket, example_model, tmp_path):
    # The example model with a trailing newline: the same model in an artifact of its own.
    with tarfile.open(example_model.model_path) as tar:
        model = tar.extractfile(MODEL_FILE_NAME).read()
    write_tar_gz(tmp_path / "model.tar.gz", {MODEL_FILE_NAME: model + b"\n"})
    artifact = (tmp_path / "model.tar.gz").read_bytes()
    name = model_for("checks-death", upload(bucket, "d/model.tar.gz", tmp_path / "model.tar.gz"))
    sm().create_endpoint(EndpointName=name, EndpointConfigName=name)
    wait_status(name, "InService")
    [server] = _servers_of(emulator.pid, artifact)
    os.kill(server, signal.SIGKILL)
    failed = wait_status(name, "Failed", timeout=20)
    assert "model server exited" in failed["FailureReason"]


def test_a_lambda_that_keeps_failing_sends_the_event_to_the_dead_letter_queue(emulator, example_model):
    from pipelines.config import load_config
    from pipelines.local_run import LOCAL_OVERRIDES, prepare_account
    from tests.integration.conftest import CONFIG

    cfg = load_config(
        CONFIG,
        [*LOCAL_OVERRIDES, "deploy.endpoint_name=checks-dlq", "registry.model_package_group=checks-dlq"],
        environ={},
    )
    prepare_account(cfg)
    client = sm()
    packages.ensure_group(client, "checks-dlq", "dlq")
    arn = packages.register_version(client, registration(group="checks-dlq"))
    # Approved without the recommender's metadata: the deploy refuses, three times.
    packages.set_approval(client, arn, "Approved", "approved by hand, skipping the pipeline")
    sqs = boto3.client("sqs")
    queue = sqs.get_queue_url(QueueName="checks-dlq-deploy-dlq")["QueueUrl"]
    deadline = time.monotonic() + 30
    while True:
        messages = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=0).get("Messages", [])
        if messages:
            break
        assert time.monotonic() < deadline, "the event never reached the DLQ"
        time.sleep(0.5)
    event = json.loads(messages[0]["Body"])
    assert event["detail"]["ModelPackageArn"] == arn and event["detail-type"] == "SageMaker Model Package State Change"
    with pytest.raises(ClientError):
        client.describe_endpoint(EndpointName="checks-dlq")


def test_up_on_a_port_another_program_holds_says_so_without_a_traceback(tmp_path, monkeypatch, capsys):
    from pipelines.cli import main

    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        monkeypatch.setenv("RTB_MLOPS_EMULATOR_HOME", str(tmp_path))
        assert main(["emulator", "up", "--port", str(port)]) == 2
    assert f"error: port {port} on 127.0.0.1 is taken by another program" in capsys.readouterr().err


def test_up_on_the_port_of_an_emulator_of_another_state_folder_is_refused(emulator, tmp_path):
    from emulator import control

    with pytest.raises(control.EmulatorError, match="another state folder"):
        control.up(int(emulator.url.rsplit(":", 1)[1]), tmp_path)


def test_down_after_the_emulator_was_killed_says_it_was_not_running(tmp_path):
    from emulator import control
    from tests.integration.conftest import free_port

    running, started = control.up(free_port(), tmp_path)
    assert started
    os.kill(running.pid, signal.SIGKILL)
    os.waitpid(running.pid, 0)
    assert control.down(tmp_path) is control.Stopped.WAS_DEAD
    assert control.down(tmp_path) is control.Stopped.NONE


def test_requests_are_validated_and_quotas_answered_over_http(emulator):
    sm = boto3.client("sagemaker")
    # botocore's client-side validation has no maximum; AWS's (and the emulator's) has.
    with pytest.raises(ClientError) as err:
        sm.list_models(MaxResults=101)
    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert (
        "Value '101' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 100"
        in (err.value.response["Error"]["Message"])
    )
    sq = boto3.client("service-quotas")
    lam = sq.get_service_quota(ServiceCode="lambda", QuotaCode="L-B99A9384")["Quota"]
    assert (lam["QuotaName"], lam["Value"]) == ("Concurrent executions", 10)
    with pytest.raises(ClientError) as err:
        sm.create_endpoint_config(
            EndpointConfigName="too-many",
            ProductionVariants=[
                {"VariantName": "v", "ModelName": "m", "InstanceType": "ml.x.huge", "InitialInstanceCount": 1}
            ],
        )
    assert "Member must satisfy enum value set" in err.value.response["Error"]["Message"]
