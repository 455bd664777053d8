"""The Parity step's script: serving.parity's verdict passed through, or a failed one saying why."""

import json
import subprocess

import pytest

from steps import parity_step


@pytest.fixture
def dirs(tmp_path):
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "model.tar.gz").write_bytes(b"m")
    (tmp_path / "payload").mkdir()
    (tmp_path / "payload" / "payload.tar.gz").write_bytes(b"p")
    return tmp_path / "model", tmp_path / "payload", tmp_path / "out"


def test_the_verdict_of_serving_parity_is_passed_through(dirs, monkeypatch):
    seen = {}

    def fake_run(cmd, **_):
        seen["cmd"] = cmd
        out = cmd[cmd.index("--out") + 1]
        verdict = {"passed": False, "rows_checked": 900, "max_abs_diff": 0.02, "reason": "row 3", "worst_rows": []}
        open(out, "w").write(json.dumps(verdict))
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(parity_step.subprocess, "run", fake_run)
    verdict = parity_step.run(*dirs)
    assert verdict["rows_checked"] == 900 and verdict["passed"] is False
    assert seen["cmd"][1:3] == ["-m", "serving.parity"] and str(dirs[0] / "model.tar.gz") in seen["cmd"]


def test_no_verdict_from_serving_parity_is_a_failed_one_with_its_error(dirs, monkeypatch):
    monkeypatch.setattr(
        parity_step.subprocess,
        "run",
        lambda cmd, **_: subprocess.CompletedProcess(cmd, 2, "", "error: payload.tar.gz: not a gzip file\n"),
    )
    parity_step.run(*dirs)
    verdict = json.loads((dirs[2] / "parity.json").read_text())
    assert verdict["passed"] is False
    assert (
        verdict["reason"]
        == "parity not checked: serving.parity exited with status 2: error: payload.tar.gz: not a gzip file"
    )


def test_an_input_folder_with_two_files_is_refused_in_the_verdict(dirs):
    (dirs[0] / "other.tar.gz").write_bytes(b"x")
    verdict = parity_step.run(*dirs)
    assert verdict["passed"] is False and "expected exactly one input file" in verdict["reason"]
