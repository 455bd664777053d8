import io
import json
import os
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest
import xgboost as xgb

from model_registry.artifact.compat import check
from model_registry.artifact.errors import ArtifactError, UnsafeArtifactError
from model_registry.artifact.model_file import ModelFormat, classify
from model_registry.artifact.payload import payload_from_csv, read_sample_payload
from model_registry.artifact.tarball import write_tar_gz
from model_registry.artifact.validate import load_artifact, read_model_file, validate_artifact
from tests.conftest import GUIDANCE_ROW, GUIDANCE_SCORE


def _tar(path: Path, files: dict[str, bytes]) -> Path:
    write_tar_gz(path, files)
    return path


class _Exploit:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


# --- the real legacy model -------------------------------------------------------------


def test_real_guidance_model_is_recognised_as_legacy_pickle(guidance_model):
    model = read_model_file(guidance_model)
    assert model.format is ModelFormat.PICKLE
    assert model.saved_by == (1, 2, 0)


def test_real_guidance_model_scores_as_published(guidance_model):
    _, booster = load_artifact(guidance_model)
    row = np.array([[float(v) for v in GUIDANCE_ROW.split(b",")]], dtype=np.float32)
    assert booster.inplace_predict(row)[0] == pytest.approx(GUIDANCE_SCORE, abs=5e-9)
    assert booster.num_features() == 7 and booster.num_boosted_rounds() == 50


@pytest.mark.parametrize("version", ["1.7-1", "3.0-5"])
def test_real_guidance_model_accepted_by_containers_that_load_it(guidance_model, version):
    report = validate_artifact(guidance_model, version)
    assert report.compatibility.loadable
    assert report.facts.objective == "binary:logistic"


def test_real_guidance_model_refused_for_3_2_with_reason(guidance_model):
    with pytest.raises(ArtifactError, match=r"3\.2-0 image cannot load it: xgboost 3\.2 cannot unpickle .* 1\.2\.0"):
        validate_artifact(guidance_model, "3.2-0")


def test_convert_makes_the_legacy_model_portable(guidance_model, tmp_path):
    from pipelines.cli import main

    out = tmp_path / "converted.tar.gz"
    assert main(["artifact", "convert", str(guidance_model), str(out)]) == 0
    report = validate_artifact(out, "3.2-0")
    assert report.format == "json"
    _, booster = load_artifact(out)
    row = np.array([[2, 0, 0.0, 7.0, 3.0, 20.0, 2]], dtype=np.float32)
    assert booster.inplace_predict(row)[0] == pytest.approx(GUIDANCE_SCORE, abs=5e-9)


# --- hostile artifacts -----------------------------------------------------------------


def test_malicious_pickle_is_refused_and_nothing_runs(tmp_path):
    marker = tmp_path / "pwned"
    art = _tar(tmp_path / "m.tar.gz", {"xgboost-model": pickle.dumps(_Exploit(marker))})
    with pytest.raises(UnsafeArtifactError, match=r"os\.system|posix\.system"):
        validate_artifact(art, "3.0-5")
    assert not marker.exists()


def test_pickle_with_allowed_and_forbidden_globals_lists_the_forbidden(tmp_path):
    marker = tmp_path / "pwned"
    blob = pickle.dumps([bytearray(b"x"), _Exploit(marker)], protocol=4)
    with pytest.raises(UnsafeArtifactError) as err:
        classify("xgboost-model", blob)
    refused = str(err.value).split("): ", 1)[1]
    assert "system" in refused and "bytearray" not in refused
    assert not marker.exists()


def test_pickle_of_something_else_is_refused(tmp_path):
    with pytest.raises(ArtifactError, match="not an xgboost Booster"):
        classify("xgboost-model", pickle.dumps({"handle": bytearray(b"x")}))


def test_archive_escaping_its_folder_is_refused(tmp_path):
    path = tmp_path / "evil.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo("../../etc/xgboost-model")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"{}"))
    with pytest.raises(ArtifactError, match="escapes the archive"):
        read_model_file(path)


def test_symlink_member_is_refused(tmp_path):
    path = tmp_path / "link.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo("xgboost-model")
        info.type = tarfile.SYMTYPE
        info.linkname = "/etc/passwd"
        tar.addfile(info)
    with pytest.raises(ArtifactError, match="link or device"):
        read_model_file(path)


def test_corrupt_archive(tmp_path):
    path = tmp_path / "bad.tar.gz"
    path.write_bytes(b"\x1f\x8b\x08\x00garbage")
    with pytest.raises(ArtifactError, match=r"bad\.tar\.gz: (not a gzip|corrupt)"):
        read_model_file(path)


def test_missing_and_extra_files(tmp_path, example_model):
    with pytest.raises(ArtifactError, match="expected a file named 'xgboost-model'"):
        read_model_file(_tar(tmp_path / "a.tar.gz", {"model.json": b"{}"}))
    with pytest.raises(ArtifactError, match="loads every file"):
        read_model_file(_tar(tmp_path / "b.tar.gz", {"xgboost-model": b"{}", "notes.txt": b"hi"}))


def test_unknown_bytes_are_not_a_model():
    with pytest.raises(ArtifactError, match="not an XGBoost model"):
        classify("xgboost-model", b"PK\x03\x04 a zip file")


def test_truncated_json_model(tmp_path, example_model):
    data = read_model_file(Path(example_model.model_path)).data[:500]
    with pytest.raises(ArtifactError, match="JSON model does not parse"):
        classify("xgboost-model", data)


# --- formats and compatibility ---------------------------------------------------------


def _booster() -> xgb.Booster:
    rng = np.random.default_rng(0)
    x = rng.random((200, 7))
    return xgb.train({"objective": "binary:logistic", "max_depth": 2}, xgb.DMatrix(x, label=x[:, 0] > 0.5), 3)


def test_format_detection_and_versions():
    b = _booster()
    j = classify("m", bytes(b.save_raw("json")))
    u = classify("m", bytes(b.save_raw("ubj")))
    p = classify("m", pickle.dumps(b))
    assert (j.format, u.format, p.format) == (ModelFormat.JSON, ModelFormat.UBJSON, ModelFormat.PICKLE)
    assert j.saved_by == p.saved_by == tuple(int(v) for v in xgb.__version__.split(".")[:3])


@pytest.mark.parametrize(
    ("fmt", "saved_by", "container", "loadable"),
    [
        ("json", [3, 0, 5], "3.0-5", True),
        ("json", [3, 0, 5], "3.2-0", True),
        ("json", [3, 0, 5], "1.7-1", False),
        ("json", [1, 7, 6], "1.7-1", True),
        ("json", [3, 2, 0], "3.0-5", False),
    ],
)
def test_compatibility_matrix_for_json(fmt, saved_by, container, loadable):
    doc = json.loads(bytes(_booster().save_raw("json")))
    doc["version"] = saved_by
    result = check(classify("m", json.dumps(doc).encode()), container)
    assert result.loadable is loadable, result.reason


def test_ubjson_only_where_content_detection_reads_it():
    model = classify("m", bytes(_booster().save_raw("ubj")))
    assert not check(model, "1.7-1").loadable
    assert check(model, "3.0-5").loadable


def test_non_probability_objective_is_refused(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.random((100, 7))
    reg = xgb.train({"objective": "reg:squarederror"}, xgb.DMatrix(x, label=x[:, 0]), 2)
    art = _tar(tmp_path / "r.tar.gz", {"xgboost-model": bytes(reg.save_raw("json"))})
    with pytest.raises(ArtifactError, match="must output probabilities"):
        validate_artifact(art, "3.0-5")


# --- sample payloads -------------------------------------------------------------------


def test_example_payload_matches_model(example_model):
    report = validate_artifact(Path(example_model.model_path), "3.0-5", Path(example_model.payload_path))
    assert report.payload_rows == 100 and report.facts.num_features == 7


def test_payload_with_wrong_feature_count(tmp_path, example_model):
    payload = _tar(tmp_path / "p.tar.gz", {"a.csv": b"1,2,3\n"})
    with pytest.raises(ArtifactError, match="rows have 3 features, the model expects 7"):
        validate_artifact(Path(example_model.model_path), "3.0-5", payload)


def test_garbage_csv_row_names_file_line_and_column(tmp_path):
    payload = _tar(tmp_path / "p.tar.gz", {"a.csv": b"1,2,3\n", "b.csv": b"1,2,3\n4,five,6\n"})
    with pytest.raises(ArtifactError, match=r"p\.tar\.gz:b\.csv: line 2: column 2: 'five' is not a number"):
        read_sample_payload(payload)


def test_empty_fields_are_missing_values(tmp_path):
    payload = read_sample_payload(_tar(tmp_path / "p.tar.gz", {"a.csv": b"1,,3\n"}))
    assert np.isnan(payload.matrix(3)[0, 1])


def test_payload_from_csv_rows(tmp_path):
    rows = tmp_path / "rows.csv"
    rows.write_bytes(b"1,2,3\n4,5,6\n")
    payload = payload_from_csv(rows, tmp_path / "p.tar.gz")
    assert payload.num_rows == 2
    assert len(read_sample_payload(tmp_path / "p.tar.gz").bodies) == 2
    rows.write_bytes(b"1,2,3\n4,x,6\n")
    with pytest.raises(ArtifactError, match="rows.csv: line 2"):
        payload_from_csv(rows, tmp_path / "q.tar.gz")


# --- the example model -----------------------------------------------------------------


def test_example_model_is_deterministic_and_useful(tmp_path, example_model):
    from model_registry.example_model import build_example_model

    again = build_example_model(tmp_path, rows=20_000)
    assert again.sha256 == example_model.sha256
    assert example_model.auc > 0.65
    assert read_model_file(Path(example_model.model_path)).format is ModelFormat.JSON


def test_an_extracted_model_directory_loads_like_its_archive(guidance_model, tmp_path):
    """/opt/ml/model in a container: SageMaker has extracted the archive there."""
    with tarfile.open(guidance_model) as tar:
        tar.extractall(tmp_path, filter="data")
    model, booster = load_artifact(tmp_path)
    _, from_archive = load_artifact(guidance_model)
    assert model.name == f"{tmp_path}/xgboost-model"
    assert bytes(booster.save_raw("json")) == bytes(from_archive.save_raw("json"))


def test_an_extracted_model_directory_without_the_model_file_is_refused(tmp_path):
    (tmp_path / "model.joblib").write_bytes(b"x")
    with pytest.raises(ArtifactError, match=r"expected a regular file named 'xgboost-model', found 'model.joblib'"):
        load_artifact(tmp_path)
    (tmp_path / "elsewhere").write_bytes(b"{}")
    (tmp_path / "xgboost-model").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(ArtifactError, match="expected a regular file named 'xgboost-model'"):
        load_artifact(tmp_path)


def test_an_extracted_model_file_above_the_limit_is_refused_unread(tmp_path):
    (tmp_path / "xgboost-model").write_bytes(b"{" + b" " * 2000 + b"}")
    with pytest.raises(
        ArtifactError, match=r"xgboost-model: 2002 bytes \(2.0 KiB\), above the 1024 bytes \(1.0 KiB\) limit"
    ):
        load_artifact(tmp_path, max_bytes=1024)


def test_an_unreadable_extracted_model_file_is_named(tmp_path, monkeypatch):
    (tmp_path / "xgboost-model").write_bytes(b"{}")

    def denied(self):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "read_bytes", denied)
    with pytest.raises(ArtifactError, match=r"xgboost-model: cannot read: Permission denied"):
        load_artifact(tmp_path)
