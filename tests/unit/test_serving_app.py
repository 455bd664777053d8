"""The container contract, in process: statuses, rows, missing values, the real model's score."""

from pathlib import Path

import numpy as np
import pytest

from model_registry.artifact.validate import load_artifact
from serving.app import MAX_PAYLOAD_BYTES, InferenceApp
from serving.predictors import CompiledPredictor, XGBoostPredictor, load_predictor
from tests.conftest import GUIDANCE_ROW, GUIDANCE_SCORE


@pytest.fixture(scope="module", params=["compiled", "xgboost"])
def guidance_app(request, guidance_model):
    _, booster = load_artifact(guidance_model)
    return InferenceApp(load_predictor(booster, request.param))


def post(app, body: bytes, content_type: bytes | None = b"text/csv"):
    return app.handle(b"POST", b"/invocations", content_type, body)


def test_ping(guidance_app):
    assert guidance_app.handle(b"GET", b"/ping", None, b"").status == 200


def test_guidance_model_known_score(guidance_app):
    r = post(guidance_app, GUIDANCE_ROW)
    assert r.status == 200 and r.content_type == b"text/csv"
    assert float(r.body) == pytest.approx(GUIDANCE_SCORE, abs=1e-7)


def test_many_rows_one_probability_per_line(guidance_app):
    body = b"\n".join([GUIDANCE_ROW] * 3 + [b"6,20,4,90,0,1,4"]) + b"\n"
    lines = post(guidance_app, body).body.decode().strip().split("\n")
    assert len(lines) == 4 and all(0 <= float(v) <= 1 for v in lines)


def test_empty_fields_are_missing_values(guidance_app):
    r = post(guidance_app, b",0,,7.0,3.0,,2")
    assert r.status == 200 and 0 <= float(r.body) <= 1


@pytest.mark.parametrize(
    ("content_type", "status"),
    [
        (b"text/csv", 200),
        (b"text/csv; charset=utf-8", 200),
        (None, 200),
        (b"application/json", 415),
        (b"text/libsvm", 415),
    ],
)
def test_content_types(guidance_app, content_type, status):
    assert post(guidance_app, GUIDANCE_ROW, content_type).status == status


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"1,2,3", b"line 1: 3 fields, expected 7"),
        (b"2,0,0.0,7.0,3.0,20.0,2\n2,0,x,7.0,3.0,20.0,2", b"line 2: column 3: 'x' is not a number"),
        (b"", b"no rows"),
        (b"\xff\xfe,\x00", b"fields, expected 7"),
    ],
)
def test_bad_rows_are_400_with_a_message(guidance_app, body, fragment):
    r = post(guidance_app, body)
    assert r.status == 400 and fragment in r.body


def test_payload_limit(guidance_app):
    assert post(guidance_app, b"1" * (MAX_PAYLOAD_BYTES + 1)).status == 413


def test_unknown_path_and_method(guidance_app):
    assert guidance_app.handle(b"GET", b"/metrics", None, b"").status == 404
    assert guidance_app.handle(b"GET", b"/invocations", None, b"").status == 405
    assert guidance_app.handle(b"POST", b"/ping", None, b"").status == 405


def _rows_with_missing(n: int) -> np.ndarray:
    rng = np.random.default_rng(1)
    m = rng.integers(0, 40, (n, 7)).astype(np.float32)
    m[rng.random((n, 7)) < 0.15] = np.nan
    return m


@pytest.mark.parametrize("which", ["guidance", "example"])
def test_compiled_agrees_with_xgboost(which, guidance_model, example_model):
    path = guidance_model if which == "guidance" else Path(example_model.model_path)
    _, booster = load_artifact(path)
    compiled, plain = load_predictor(booster, "compiled"), XGBoostPredictor(booster)
    assert isinstance(compiled, CompiledPredictor)
    rows = _rows_with_missing(3000)
    assert np.abs(compiled.predict(rows) - plain.predict(rows)).max() < 1e-6


def test_auto_falls_back_to_xgboost_with_a_log_line(guidance_model, monkeypatch, caplog):
    import serving.compiler

    def broken(*args, **kwargs):
        raise OSError("gcc: command not found")

    monkeypatch.setattr(serving.compiler, "compiled_library", broken)
    _, booster = load_artifact(guidance_model)
    with caplog.at_level("WARNING"):
        predictor = load_predictor(booster, "auto")
    assert predictor.name == "xgboost"
    assert "compiled predictor unavailable (OSError: gcc: command not found); falling back to xgboost" in caplog.text
    with pytest.raises(OSError):
        load_predictor(booster, "compiled")


def test_a_large_body_is_scored_in_slices_with_the_same_answer(guidance_app):
    from serving.app import DEFAULT_SLICE_ROWS as SLICE_ROWS
    from serving.app import finish

    rows = [b"6,20,4,90,0,1,4", GUIDANCE_ROW] * (SLICE_ROWS + 10)
    body = b"\n".join(rows)
    work = guidance_app.work(b"POST", b"/invocations", b"text/csv", body)
    pauses = 0
    try:
        while True:
            next(work)
            pauses += 1
    except StopIteration as done:
        sliced = done.value
    assert pauses == -(-len(rows) // SLICE_ROWS) - 1
    assert sliced == finish(guidance_app.work(b"POST", b"/invocations", b"text/csv", body))
    assert len(sliced.body.splitlines()) == len(rows)


def test_a_bad_row_past_the_first_slice_is_named_by_its_own_line(guidance_app):
    from serving.app import DEFAULT_SLICE_ROWS as SLICE_ROWS

    rows = [GUIDANCE_ROW] * (SLICE_ROWS * 2) + [b"1,2"]
    r = post(guidance_app, b"\n".join(rows))
    assert r.status == 400 and f"line {SLICE_ROWS * 2 + 1}: 2 fields".encode() in r.body
