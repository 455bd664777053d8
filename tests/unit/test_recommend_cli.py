"""`rtb-mlops recommend --job-json ...`: one JSON object, exit 0 on a pass, 1 on a fail, 2 on bad usage."""

import json

import pytest

from pipelines.cli import main
from tests.conftest import FIXTURES

JOB = str(FIXTURES / "ir_job_default.json")
BASE = ["recommend", "--job-json", JOB, "--peak-rps", "50000", "--safety-factor", "0.7", "--min-instances", "2"]


def test_passing_decision(capsys, tmp_path):
    chart = tmp_path / "c.png"
    assert main([*BASE, "--max-latency-ms", "20", "--chart", str(chart)]) == 0
    out = json.loads(capsys.readouterr().out)
    keys = {"decision", "reason", "recommendation_id", "instance_type", "instance_count", "target_invocations_per_instance",
            "model_latency_ms", "max_invocations_per_minute", "cost_per_inference", "fleet_cost_per_hour"}  # fmt: skip
    assert keys <= out.keys()
    assert (out["decision"], out["instance_type"], out["instance_count"]) == ("passed", "ml.c6i.large", 92)
    assert chart.read_bytes()[:4] == b"\x89PNG"


def test_failing_decision_exits_1(capsys):
    assert main([*BASE, "--max-latency-ms", "1"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["decision"] == "failed" and "latency SLA" in out["reason"] and out["instance_type"] is None


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--max-latency-ms", "20", "--safety-factor", "1.5"], "safety_factor must be in (0, 1]"),
        (["--max-latency-ms", "20", "--peak-rps", "0"], "peak_rps must be > 0"),
    ],
)
def test_bad_numbers_are_usage_errors(capsys, extra, fragment):
    assert main([*BASE, *extra]) == 2
    assert fragment in capsys.readouterr().err


def test_unreadable_job_file(capsys, tmp_path):
    bad = tmp_path / "job.json"
    bad.write_text("{not json")
    assert (
        main(
            ["recommend", "--job-json", str(bad), "--max-latency-ms", "20", "--peak-rps", "1", "--safety-factor", "0.5"]
        )
        == 2
    )
    assert "not JSON" in capsys.readouterr().err
    failed = tmp_path / "failed.json"
    failed.write_text(json.dumps({"Status": "FAILED", "FailureReason": "quota"}))
    assert (
        main(
            [
                "recommend",
                "--job-json",
                str(failed),
                "--max-latency-ms",
                "20",
                "--peak-rps",
                "1",
                "--safety-factor",
                "0.5",
            ]
        )
        == 2
    )
    assert "job status is FAILED, not COMPLETED: quota" in capsys.readouterr().err
