"""serving.parity: the compiled predictor against xgboost on payload and probe rows; a broken
compiled predictor (perturbed outputs, or a library built from a tampered model) is a mismatch."""

import io
import json
import tarfile
from pathlib import Path

import numpy as np
import pytest
import xgboost as xgb

from serving import parity
from serving.compiler import compiled_library
from serving.predictors import CompiledPredictor
from serving.probe_rows import SPECIAL_VALUES, probe_rows, split_thresholds
from tests.conftest import GUIDANCE_ROW

PAYLOAD = np.array([[2, 0, 0, 7, 3, 20, 2], [1, 5, np.nan, 3, 1, 2, 1], [6, 20, 4, 90, 0, 1, 4]], dtype=np.float32)
REPORT_KEYS = {"passed", "rows_checked", "max_abs_diff", "tolerance", "reason", "worst_rows"}
ROW_KEYS = {"source", "row", "xgboost", "compiled", "abs_diff"}


@pytest.fixture(scope="module")
def small_booster() -> xgb.Booster:
    """A few shallow trees on seven features, with missing values in training (default branches)."""
    rng = np.random.default_rng(7)
    x = rng.integers(0, 30, (400, 7)).astype(np.float32)
    x[rng.random(x.shape) < 0.1] = np.nan
    y = ((np.nan_to_num(x[:, 1]) > 12) ^ (np.nan_to_num(x[:, 3]) < 9)).astype(np.float32)
    params = {"objective": "binary:logistic", "max_depth": 3, "eta": 0.5, "nthread": 1}
    return xgb.train(params, xgb.DMatrix(x, label=y), num_boost_round=6)


def _artifact(booster: xgb.Booster, path: Path) -> Path:
    data = bytes(booster.save_raw("json"))
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo("xgboost-model")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return path


def _cli_args(artifact: Path, payload: Path, out: Path) -> list[str]:
    return ["--model-artifact", str(artifact), "--payload", str(payload), "--out", str(out)]


class Perturbed:
    """A compiled predictor whose output is off by `delta` on rows where feature 2 is missing."""

    def __init__(self, inner, delta: float):
        self.inner, self.delta, self.name, self.num_features = inner, delta, "compiled", inner.num_features

    def predict(self, rows: np.ndarray) -> np.ndarray:
        out = self.inner.predict(rows).copy()
        out[np.isnan(rows[:, 2])] += np.float32(self.delta)
        return out


def test_probe_rows_cover_special_values_and_every_threshold_both_ways(small_booster):
    probes = probe_rows(small_booster, PAYLOAD)
    assert probes.matrix.shape == (len(probes.sources), 7) and probes.matrix.dtype == np.float32
    assert np.array_equal(probes.matrix[:3], PAYLOAD, equal_nan=True)
    for value in SPECIAL_VALUES:
        hit = np.isnan(probes.matrix) if np.isnan(value) else probes.matrix == np.float32(value)
        assert hit.any(axis=0).all(), f"{value} is not set into every feature"
    for feature, threshold in split_thresholds(small_booster):
        column = probes.matrix[:, feature]
        at = np.float32(threshold)
        assert (column == at).any() and (column == np.nextafter(at, np.float32(-np.inf))).any()
        assert (column == np.nextafter(at, np.float32(np.inf))).any()
    again = probe_rows(small_booster, PAYLOAD)
    assert np.array_equal(again.matrix, probes.matrix, equal_nan=True) and again.sources == probes.sources


def test_the_compiled_model_matches(small_booster):
    report = parity.check_model(small_booster, PAYLOAD)
    assert report.passed, report.reason
    assert report.rows_checked == len(probe_rows(small_booster, PAYLOAD).sources)
    assert report.max_abs_diff is not None and report.max_abs_diff <= 1e-6
    assert report.reason.startswith(f"compiled outputs within 1e-06 of xgboost's on all {report.rows_checked} rows")


def test_perturbed_outputs_are_a_mismatch_naming_the_worst_row(small_booster):
    compiled = CompiledPredictor(compiled_library(small_booster))
    report = parity.check_model(small_booster, PAYLOAD, compiled=Perturbed(compiled, 1e-4))
    assert not report.passed
    assert report.max_abs_diff == pytest.approx(1e-4, rel=1e-2)
    assert "by more than 1e-06 on" in report.reason
    assert len(report.worst_rows) == parity.WORST_ROWS
    worst = report.worst_rows[0]
    assert worst.row.split(",")[2] == "" and worst.abs_diff == pytest.approx(1e-4, rel=1e-2)
    assert worst.source in report.reason
    # Below the tolerance is a pass: the verdict is about the tolerance, not any difference.
    assert parity.check_model(small_booster, PAYLOAD, compiled=Perturbed(compiled, 1e-7)).passed


def test_a_library_compiled_from_a_tampered_model_is_a_mismatch(small_booster):
    model = json.loads(bytes(small_booster.save_raw("json")))
    tree = model["learner"]["gradient_booster"]["model"]["trees"][0]
    leaf = tree["left_children"].index(-1)
    tree["split_conditions"][leaf] += 0.05  # a leaf's split_conditions entry is its output value
    tampered = xgb.Booster(model_file=bytearray(json.dumps(model).encode()))
    report = parity.check_model(small_booster, PAYLOAD, compiled=CompiledPredictor(compiled_library(tampered)))
    assert not report.passed and report.max_abs_diff > 1e-3


def test_nan_outputs_are_a_mismatch_and_the_json_stays_strict(small_booster):
    class Broken:
        name, num_features = "compiled", 7

        def predict(self, rows):
            return np.full(len(rows), np.nan, dtype=np.float32)

    report = parity.check_model(small_booster, PAYLOAD, compiled=Broken())
    assert not report.passed and report.max_abs_diff is None and "non-number" in report.reason
    assert report.worst_rows[0].compiled is None and report.worst_rows[0].abs_diff is None
    json.dumps(report.to_dict(), allow_nan=False)


def test_cli_writes_the_verdict_and_exits_0(small_booster, tmp_path, capsys):
    artifact = _artifact(small_booster, tmp_path / "model.tar.gz")
    rows = tmp_path / "rows.csv"
    rows.write_bytes(GUIDANCE_ROW + b"\n1,5,,3,1,2,1\n")
    out = tmp_path / "out" / "parity.json"
    assert parity.main(_cli_args(artifact, rows, out)) == 0
    report = json.loads(out.read_text())
    assert set(report) == REPORT_KEYS and report["passed"] is True and report["tolerance"] == 1e-6
    assert all(set(row) == ROW_KEYS for row in report["worst_rows"])
    assert capsys.readouterr().out.strip().endswith(report["reason"])


def test_cli_reads_the_registered_payload_archive(small_booster, tmp_path):
    from model_registry.artifact.tarball import write_tar_gz

    artifact = _artifact(small_booster, tmp_path / "model.tar.gz")
    payload = tmp_path / "payload.tar.gz"
    write_tar_gz(payload, {"request-0000.csv": GUIDANCE_ROW + b"\n", "request-0001.csv": b"6,20,4,90,0,1,4\n"})
    out = tmp_path / "parity.json"
    assert parity.main(_cli_args(artifact, payload, out)) == 0
    assert json.loads(out.read_text())["worst_rows"]


def test_cli_without_a_compiler_reports_a_failed_verdict(small_booster, tmp_path, monkeypatch):
    import serving.compiler

    def no_gcc(*args, **kwargs):
        raise OSError("gcc: command not found")

    monkeypatch.setattr(serving.compiler, "compiled_library", no_gcc)
    artifact = _artifact(small_booster, tmp_path / "model.tar.gz")
    (tmp_path / "rows.csv").write_bytes(GUIDANCE_ROW + b"\n")
    args = _cli_args(artifact, tmp_path / "rows.csv", tmp_path / "p.json")
    assert parity.main(args) == 0
    report = json.loads((tmp_path / "p.json").read_text())
    assert report["passed"] is False and report["rows_checked"] == 0 and report["max_abs_diff"] is None
    assert report["reason"] == "compiled predictor unavailable: OSError: gcc: command not found"


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (b"1,2,3\n", "rows.csv: line 1: 3 fields, expected 7"),
        (b"2,0,x,7,3,20,2\n", "rows.csv: line 1: column 3: 'x' is not a number"),
        (None, "rows.csv: cannot read"),
    ],
)
def test_cli_bad_input_exits_2_naming_the_file(small_booster, tmp_path, capsys, payload, expected):
    artifact = _artifact(small_booster, tmp_path / "model.tar.gz")
    if payload is not None:
        (tmp_path / "rows.csv").write_bytes(payload)
    args = _cli_args(artifact, tmp_path / "rows.csv", tmp_path / "p.json")
    assert parity.main(args) == 2
    assert expected in capsys.readouterr().err
    assert not (tmp_path / "p.json").exists()


def test_cli_missing_artifact_exits_2_naming_it(tmp_path, capsys):
    (tmp_path / "rows.csv").write_bytes(GUIDANCE_ROW + b"\n")
    args = ["--model-artifact", str(tmp_path / "nope.tar.gz"), "--payload", str(tmp_path / "rows.csv")]
    assert parity.main([*args, "--out", str(tmp_path / "p.json")]) == 2
    assert "nope.tar.gz: file not found" in capsys.readouterr().err


def test_the_guidance_model_compiles_to_a_match(guidance_model):
    from model_registry.artifact.validate import load_artifact

    _, booster = load_artifact(guidance_model)
    report = parity.check_model(booster, PAYLOAD)
    assert report.passed, report.reason
