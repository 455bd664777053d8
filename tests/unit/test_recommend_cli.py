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


TWO = ["recommend", "--job-json", str(FIXTURES / "ir_job_two_specifications.json"), "--max-latency-ms", "20"]
TWO += ["--peak-rps", "50000", "--safety-factor", "0.7", "--min-instances", "2"]


def test_the_choice_spans_the_packages_inference_specifications(capsys):
    assert main([*TWO, "--table"]) == 0
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert (out["inference_specification_name"], out["instance_type"]) == ("rtb-mlops-fast", "ml.c6i.large")
    assert out["reason"].startswith("rtb-mlops-fast on ml.c6i.large")
    rows = [line for line in captured.err.splitlines() if "ml." in line]
    assert {line.split()[0].lstrip("*") or line.split()[1] for line in rows} >= {"stock-xgboost", "rtb-mlops-fast"}


def test_a_failed_parity_verdict_drops_the_fast_container_with_its_reason(capsys, tmp_path):
    verdict = {"passed": False, "rows_checked": 1100, "max_abs_diff": 0.031, "reason": "row 7: 0.41 vs 0.379"}
    (tmp_path / "parity.json").write_text(json.dumps(verdict))
    assert main([*TWO, "--parity-dir", str(tmp_path)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["inference_specification_name"], out["instance_type"]) == ("", "ml.c6i.large")
    assert "rtb-mlops-fast set aside: parity gate failed: row 7: 0.41 vs 0.379 (1100 rows checked" in out["reason"]


def test_a_missing_parity_verdict_drops_the_fast_container_too(capsys, tmp_path):
    assert main([*TWO, "--parity-dir", str(tmp_path)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["container"] == "stock-xgboost" and "no readable verdict" in out["reason"]
