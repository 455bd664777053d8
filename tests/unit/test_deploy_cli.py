"""`rtb-mlops deploy`: the Lambda's code path from the command line (CodePipeline's deploy stage)."""

import json
from types import SimpleNamespace

import boto3

from model_registry import packages
from pipelines.cli import main
from tests.unit.recommender_jobs import RecommenderJobs
from tests.unit.test_deploy_lambda import DEFAULT_REC, recommended
from tests.unit.test_registry import registration

SETS = ["--set", "aws.role_arn=arn:aws:iam::123456789012:role/rtb-mlops-sagemaker-execution"]


def test_deploy_latest_approved_and_wait(moto_aws, monkeypatch, capsys):
    sm = boto3.client("sagemaker", region_name="us-east-1")
    packages.ensure_group(sm, "rtb-bid-filter", "RTB")
    arn = packages.register_version(sm, registration())
    recommended(SimpleNamespace(sm=sm, jobs=RecommenderJobs().install(monkeypatch)), arn, DEFAULT_REC)
    packages.set_approval(sm, arn, "Approved", "ok")
    assert main(["deploy", *SETS, "--latest-approved", "--wait"]) == 0
    lines = [json.loads(ln) for ln in capsys.readouterr().out.splitlines() if ln.startswith("{")]
    assert [ln["action"] for ln in lines] == ["created", "autoscaling"]
    assert main(["deploy", *SETS, "--model-package-arn", arn]) == 0
    assert json.loads(capsys.readouterr().out)["action"] == "unchanged"


def test_deploy_refuses_a_pending_version(moto_aws, capsys):
    sm = boto3.client("sagemaker", region_name="us-east-1")
    packages.ensure_group(sm, "rtb-bid-filter", "RTB")
    arn = packages.register_version(sm, registration())
    assert main(["deploy", *SETS, "--model-package-arn", arn]) == 2
    assert "PendingManualApproval/Completed, not Approved/Completed" in capsys.readouterr().err
