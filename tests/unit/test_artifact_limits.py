"""Hostile artifacts that try to exhaust memory, or to hide a second model, are refused with
a bounded message naming the file and the sizes; the real models still validate."""

import io
import json
import pickle
import resource
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest
import xgboost as xgb

from model_registry.artifact.errors import ArtifactError, UnsafeArtifactError
from model_registry.artifact.model_file import classify
from model_registry.artifact.safe_pickle import MAX_OPCODES, read_booster_state
from model_registry.artifact.tarball import read_members, write_tar_gz
from model_registry.artifact.validate import read_model_file, validate_artifact
from tests.conftest import REPO
from tests.unit.artifact_bombs import (
    Call,
    booster_pickle,
    bytearray_pickle,
    nested_json,
    write_bomb,
    write_pax_bomb,
    zeros,
)

GIB = 1024**3
MIB = 1024**2
# No message may echo much of what it found.
MAX_MESSAGE = 600


def _model_json(**changes: object) -> dict:
    rng = np.random.default_rng(0)
    x = rng.random((100, 7))
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 2}, xgb.DMatrix(x, label=x[:, 0] > 0.5), 2)
    doc = json.loads(bytes(booster.save_raw("json")))
    doc.update(changes)
    return doc


def _json_with_long_string(path: Path, key: str, length: int) -> Path:
    """A JSON model whose `key` is a string of `length` bytes, built without holding it."""
    doc = _model_json()
    doc.pop(key, None)
    head = json.dumps(doc).encode()[:-1] + f', "{key}": "'.encode()
    return write_bomb(path, [("xgboost-model", [(head, 1), (b"A", length), (b'"}', 1)])])


def _refusal(exc: pytest.ExceptionInfo) -> str:
    text = str(exc.value)
    assert len(text) < MAX_MESSAGE, text[:MAX_MESSAGE]
    return text


# --- archives ---------------------------------------------------------------------------


def test_gzip_bomb_is_refused_at_the_member_header(tmp_path):
    bomb = write_bomb(tmp_path / "bomb.tar.gz", [(f"m{i}", zeros(GIB)) for i in range(3)])
    assert bomb.stat().st_size < 4 * MIB
    with pytest.raises(ArtifactError) as exc:
        read_members(bomb)
    text = _refusal(exc)
    assert str(bomb) in text and "'m0'" in text
    assert "1073741824 bytes" in text


def test_archive_inflating_past_the_limit_over_several_members_stops_there(tmp_path):
    bomb = write_bomb(tmp_path / "bomb.tar.gz", [(f"m{i}", zeros(3 * MIB)) for i in range(3)])
    with pytest.raises(ArtifactError) as exc:
        read_members(bomb, max_bytes=5 * MIB)
    text = _refusal(exc)
    assert "'m1'" in text and "5242880 bytes" in text


def test_oversized_tar_metadata_is_refused_before_it_is_read(tmp_path):
    bomb = write_pax_bomb(tmp_path / "pax.tar.gz", 64 * MIB)
    with pytest.raises(ArtifactError) as exc:
        read_members(bomb, max_bytes=8 * MIB)
    assert "8388608 bytes" in _refusal(exc)


def test_archive_within_the_limit_is_read(tmp_path):
    archive = write_bomb(tmp_path / "ok.tar.gz", [("a", zeros(MIB)), ("b", zeros(MIB))])
    members = read_members(archive, max_bytes=3 * MIB)
    assert {name: len(data) for name, data in members.items()} == {"a": MIB, "b": MIB}


def test_duplicate_member_names_are_refused(tmp_path, example_model):
    good = read_model_file(Path(example_model.model_path)).data
    path = tmp_path / "twice.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for data in (bytearray_pickle(16), good):
            info = tarfile.TarInfo("xgboost-model")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    with pytest.raises(ArtifactError) as exc:
        validate_artifact(path, "3.0-5")
    text = _refusal(exc)
    assert str(path) in text and "'xgboost-model'" in text and "more than once" in text


def test_names_that_normalise_to_the_same_file_are_duplicates(tmp_path):
    archive = write_bomb(tmp_path / "dot.tar.gz", [("xgboost-model", zeros(4)), ("./xgboost-model", zeros(4))])
    with pytest.raises(ArtifactError, match="more than once"):
        read_members(archive)


@pytest.mark.parametrize("name", ["x" * 100_000, "../" + "x" * 100_000])
def test_long_member_names_are_quoted_briefly(tmp_path, name):
    files = {"xgboost-model": b"{}", name: b"", **{f"extra-{i}": b"" for i in range(1000)}}
    path = tmp_path / "names.tar.gz"
    with tarfile.open(path, "w:gz", format=tarfile.PAX_FORMAT) as tar:
        for member, data in files.items():
            info = tarfile.TarInfo(member)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    with pytest.raises(ArtifactError) as exc:
        read_model_file(path)
    assert str(path) in _refusal(exc)


# --- pickles ----------------------------------------------------------------------------


def test_pickled_bytearray_allocation_above_the_limit_is_refused():
    blob = bytearray_pickle(1_500_000_000)
    assert len(blob) < 200
    with pytest.raises(ArtifactError) as exc:
        read_booster_state("m.tar.gz:xgboost-model", blob)
    text = _refusal(exc)
    assert "m.tar.gz:xgboost-model" in text and "1500000000 bytes" in text and "1073741824 bytes" in text


def test_pickled_allocations_count_against_one_budget():
    blob = bytearray_pickle(3 * MIB)
    with pytest.raises(ArtifactError, match="2097152 bytes"):
        read_booster_state("m", blob, max_bytes=2 * MIB)


def test_pickle_with_too_many_opcodes_is_refused_before_it_runs():
    blob = b"\x80\x04" + b"N0" * (MAX_OPCODES // 2 + 1) + b"N."
    with pytest.raises(ArtifactError, match=f"more than {MAX_OPCODES} opcodes"):
        read_booster_state("m", blob)


def test_pickled_bytearray_of_another_kind_is_refused():
    blob = pickle.dumps({"handle": Call(bytearray, ([1, 2, 3],))}, protocol=4)
    with pytest.raises(UnsafeArtifactError, match=r"bytearray called with \(list\)"):
        read_booster_state("m", blob)


# --- JSON models ------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["version", "junk"])
def test_json_model_with_a_huge_string_is_refused_briefly(tmp_path, key):
    path = _json_with_long_string(tmp_path / "s.tar.gz", key, 2 * MIB)
    with pytest.raises(ArtifactError) as exc:
        validate_artifact(path, "3.0-5")
    text = _refusal(exc)
    assert str(path) in text and f"{2 * MIB} bytes" in text


@pytest.mark.parametrize("version", [[1, 2], "3.0.5", [3, 0, "5"], [3, 0, 10**40]])
def test_json_model_with_a_malformed_version_is_refused(version):
    blob = json.dumps(_model_json(version=version)).encode()
    with pytest.raises(ArtifactError, match=r"m: .*version.*expected \[major, minor, patch\]"):
        classify("m", blob)


def test_deeply_nested_json_is_refused_without_recursing():
    with pytest.raises(ArtifactError) as exc:
        classify("m.tar.gz:xgboost-model", nested_json(1_000_000))
    assert "m.tar.gz:xgboost-model" in _refusal(exc) and "deep" in str(exc.value)


def test_json_that_xgboost_would_parse_into_more_than_the_limit_is_refused():
    # 3 bytes of JSON, about 80 of xgboost's memory: a small file, a big parse.
    blob = b'{"learner": {"x": [' + b"{}," * 100_000 + b'{}]}, "version": [3, 0, 5]}'
    with pytest.raises(ArtifactError) as exc:
        classify("m", blob, max_bytes=4 * MIB)
    assert "4194304 bytes" in _refusal(exc) and "objects or arrays" in str(exc.value)


def test_xgboost_error_quoting_the_model_is_shortened(tmp_path):
    doc = _model_json()
    doc["learner"]["objective"]["name"] = "A" * 50_000
    path = tmp_path / "obj.tar.gz"
    write_tar_gz(path, {"xgboost-model": json.dumps(doc).encode()})
    with pytest.raises(ArtifactError) as exc:
        validate_artifact(path, "3.0-5")
    assert "cannot load" in _refusal(exc)


# --- UBJSON models ----------------------------------------------------------------------


def _ubj() -> bytes:
    rng = np.random.default_rng(0)
    x = rng.random((100, 7))
    return bytes(xgb.train({"objective": "binary:logistic"}, xgb.DMatrix(x, label=x[:, 0] > 0.5), 2).save_raw("ubj"))


def test_ubjson_garbage_names_the_file(tmp_path):
    good = _ubj()
    path = tmp_path / "u.tar.gz"
    write_tar_gz(path, {"xgboost-model": good[:200] + b"\xff" * 100 + good[300:]})
    with pytest.raises(ArtifactError) as exc:
        validate_artifact(path, "3.0-5")
    assert str(path) in _refusal(exc)


@pytest.mark.parametrize(
    ("blob", "said"),
    [
        (b"{L\x00\x00\x00\x00\x00\x00\x00\x07learner" + b"[" * 100_000 + b"]" * 100_000 + b"}", "deep"),
        (
            b"{L\x00\x00\x00\x00\x00\x00\x00\x07learner[$d#L\x00\x00\x01\x00\x00\x00\x00\x00" + b"\0" * 16 + b"}",
            "bytes",
        ),
        (b"{L\x00\x00\x00\x00\x00\x00\x00\x07learnerSL\x00\x00\x01\x00\x00\x00\x00\x00ab}", "bytes"),
        (b"{L\x00\x00\x00\x00\x00\x00\x00\x07learner[$Z#L\x00\x00\x01\x00\x00\x00\x00\x00}", "typed"),
    ],
)
def test_ubjson_that_would_crash_or_exhaust_xgboost_is_refused_first(blob, said):
    with pytest.raises(ArtifactError) as exc:
        classify("m", blob)
    assert said in _refusal(exc)


def test_ubjson_that_xgboost_would_parse_into_more_than_the_limit_is_refused():
    count = 100_000
    blob = b"{L\x00\x00\x00\x00\x00\x00\x00\x07learner[#l" + count.to_bytes(4, "big") + b"Z" * count + b"}"
    with pytest.raises(ArtifactError) as exc:
        classify("m", blob, max_bytes=4 * MIB)
    assert "4194304 bytes" in _refusal(exc)


def test_bytes_that_garble_xgboost_error_message_name_the_file(tmp_path):
    path = tmp_path / "g.tar.gz"
    write_tar_gz(path, {"xgboost-model": b'{"learner": \xff, "version": [3, 0, 5]}'})
    with pytest.raises(ArtifactError) as exc:
        validate_artifact(path, "3.0-5")
    assert str(path) in _refusal(exc) and "not UTF-8" in str(exc.value)


# --- the command, under a 2 GB address-space limit --------------------------------------

ADDRESS_SPACE = 2 * GIB


def _limit_address_space() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def _gzip_bomb(path: Path) -> Path:
    return write_bomb(path, [("xgboost-model", zeros(GIB)) for _ in range(3)])


def _pickle_bomb(path: Path) -> Path:
    write_tar_gz(path, {"xgboost-model": bytearray_pickle(1_500_000_000)})
    return path


def _string_bomb(path: Path) -> Path:
    return _json_with_long_string(path, "version", 100_000_000)


def _nesting_bomb(path: Path) -> Path:
    write_tar_gz(path, {"xgboost-model": nested_json(1_000_000)})
    return path


def _big_pickle(path: Path) -> Path:
    """Within the size limit, but loading it takes a few times its size: more than 2 GB."""
    return write_bomb(path, [("xgboost-model", booster_pickle(700_000_000))])


BOMBS = {
    "gzip": _gzip_bomb,
    "pickle": _pickle_bomb,
    "string": _string_bomb,
    "nesting": _nesting_bomb,
    "big pickle": _big_pickle,
}


@pytest.fixture(scope="module")
def under_2_gb(tmp_path_factory, example_model, guidance_model) -> dict[str, tuple[Path, dict]]:
    """Each bomb and each real model, validated by the command in a child process whose
    address space is limited to 2 GB (one child: importing xgboost takes seconds)."""
    folder = tmp_path_factory.mktemp("bombs")
    files = {name: build(folder / f"{name.replace(' ', '-')}.tar.gz") for name, build in BOMBS.items()}
    files |= {"example": Path(example_model.model_path), "guidance": guidance_model}
    done = subprocess.run(
        [sys.executable, "-m", "tests.unit.validate_many", *map(str, files.values())],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=_limit_address_space,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads(done.stdout)
    return {name: (path, results[str(path)]) for name, path in files.items()}


@pytest.mark.parametrize(
    ("bomb", "said"),
    [
        ("gzip", "1073741824 bytes"),
        ("pickle", "1500000000 bytes"),
        ("string", "100000000 bytes"),
        ("nesting", "deep"),
        ("big pickle", "out of memory"),
    ],
)
def test_command_refuses_each_bomb_within_2_gb(under_2_gb, bomb, said):
    path, result = under_2_gb[bomb]
    stderr = result["stderr"]
    assert result["code"] == 2, stderr[-2000:]
    assert stderr.startswith(f"error: {path}") and said in stderr, stderr[:MAX_MESSAGE]
    assert len(stderr) < MAX_MESSAGE, stderr[:MAX_MESSAGE]


@pytest.mark.parametrize(("model", "fmt"), [("example", "json"), ("guidance", "pickle")])
def test_command_validates_the_real_models_within_2_gb(under_2_gb, model, fmt):
    _, result = under_2_gb[model]
    assert result["code"] == 0, result["stderr"][-2000:]
    assert json.loads(result["stdout"])["format"] == fmt


def test_command_takes_the_limit_from_a_flag_or_the_environment(tmp_path, monkeypatch, capsys):
    from pipelines.cli import main

    archive = write_bomb(tmp_path / "a.tar.gz", [("xgboost-model", zeros(2 * MIB))])
    assert main(["artifact", "validate", "--max-bytes", "1MiB", str(archive)]) == 2
    assert "1048576 bytes" in capsys.readouterr().err
    monkeypatch.setenv("RTB_MLOPS_ARTIFACT_MAX_BYTES", "1048576")
    assert main(["artifact", "validate", str(archive)]) == 2
    assert "1048576 bytes" in capsys.readouterr().err
    monkeypatch.setenv("RTB_MLOPS_ARTIFACT_MAX_BYTES", "lots")
    assert main(["artifact", "validate", str(archive)]) == 2
    assert "RTB_MLOPS_ARTIFACT_MAX_BYTES" in capsys.readouterr().err
