import json
import math
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.config import ConfigError, load_config

CONFIG = Path(__file__).resolve().parents[2] / "config" / "pipeline.yaml"


def test_default_config_loads():
    cfg = load_config(CONFIG, environ={})
    assert cfg.recommender.safety_factor == 0.7
    assert cfg.s3_root == f"s3://{cfg.aws.bucket}/{cfg.aws.prefix}"


@pytest.mark.parametrize(
    ("override", "fragment"),
    [
        ("recommender.safety_factor=1.5", "recommender.safety_factor"),
        ("recommender.safety_factor=0", "less than or equal|greater than"),
        ("recommender.peak_requests_per_second=-5", "recommender.peak_requests_per_second"),
        ("deploy.endpoint_name=bad_name", "EndpointName"),
        ("deploy.endpoint_name=Rtb-Bid-Filter", "lowercase endpoint name"),
        ("registry.model_package_group=has spaces", "EntityName"),
        ("aws.role_arn=arn:aws:iam::12:role/x", "RoleArn"),
        ("aws.bucket=Bad_Bucket", "S3 bucket name"),
        ("model.artifact=s3://bucket-ok/", "with a key"),
        ("recommender.instance_types=[ml.c5.large, ml.foo.bar]", "ml.foo.bar"),
        ("recommender.max_latency_ms=fast", "valid integer"),
        ("recommender.latency_percentile=P50", "P95"),
        ("approval.mode=sometimes", "auto"),
        ("recommender.bogus=1", "unknown key"),
        ("model.xgboost_container_version=2.0-1", "1.7-1"),
        ("deploy.kms_key_id=not a key!", "KmsKeyId"),
        ("serving.image_uri=docker.io/library/python:3", "ECR image URI"),
        ("serving.image_uri=111122223333.dkr.ecr.us-east-1.amazonaws.com/rtb-mlops-serving", "ECR image URI"),
        # hostile or careless values (issue 17): whole values, numbers that are numbers
        ("aws.prefix=ok; rm -rf /", "aws.prefix"),
        ("aws.region=us-east-1; x", "aws.region"),
        ("aws.prefix=ok\nbad", "aws.prefix"),
        ("recommender.peak_requests_per_second=.inf", "finite number"),
        ("recommender.max_cost_per_inference=.nan", "finite number"),
        ("recommender.peak_requests_per_second=true", "valid number"),
        ("deploy.min_instances=true", "valid integer"),
        ("recommender.max_latency_ms=20.5", "valid integer"),
        ("deploy.rollback_on_reject=1", "valid boolean"),
    ],
)
def test_bad_override_names_the_key_and_expectation(override, fragment):
    with pytest.raises(ConfigError) as err:
        load_config(CONFIG, [override], environ={})
    key = override.split("=")[0]
    message = str(err.value)
    assert f"flag --set {key}" in message
    assert re.search(fragment, message), message


def test_env_override_applies_and_is_named_in_errors():
    cfg = load_config(CONFIG, environ={"RTB_MLOPS__DEPLOY__MIN_INSTANCES": "3"})
    assert cfg.deploy.min_instances == 3
    with pytest.raises(ConfigError, match="environment variable RTB_MLOPS__AWS__REGION: aws.region"):
        load_config(CONFIG, environ={"RTB_MLOPS__AWS__REGION": "mars"})


def test_flag_beats_environment():
    cfg = load_config(CONFIG, ["deploy.min_instances=4"], environ={"RTB_MLOPS__DEPLOY__MIN_INSTANCES": "3"})
    assert cfg.deploy.min_instances == 4


def test_error_in_file_names_file_and_line(tmp_path):
    bad = tmp_path / "pipeline.yaml"
    text = CONFIG.read_text().replace("safety_factor: 0.7", "safety_factor: 7")
    bad.write_text(text)
    line = next(i for i, ln in enumerate(text.splitlines(), 1) if "safety_factor: 7" in ln)
    with pytest.raises(ConfigError, match=rf"{bad}:{line}: recommender.safety_factor"):
        load_config(bad, environ={})


def test_cross_field_rule(tmp_path):
    with pytest.raises(ConfigError, match="max_instances >= min_instances"):
        load_config(CONFIG, ["deploy.min_instances=9", "deploy.max_instances=3"], environ={})


@pytest.mark.parametrize(
    ("content", "fragment"),
    [("aws: [1, 2", "not valid YAML"), ("- a\n- b\n", "mapping of sections"), ("aws: {}\n", "required key is missing")],
)
def test_broken_files(tmp_path, content, fragment):
    path = tmp_path / "c.yaml"
    path.write_text(content)
    with pytest.raises(ConfigError, match=fragment):
        load_config(path, environ={})


def test_missing_file():
    with pytest.raises(ConfigError, match="cannot read"):
        load_config("/nonexistent/pipeline.yaml", environ={})


def test_bad_set_syntax():
    with pytest.raises(ConfigError, match="expected section.key=value"):
        load_config(CONFIG, ["nokey"], environ={})


# --- hostile values (issue 17) -------------------------------------------------------------


def test_a_billion_laughs_is_refused_quickly(tmp_path):
    import time

    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join(['*a' + str(i - 1)] * 9)}]" for i in range(1, 9)]
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(CONFIG.read_text() + "\nlaughs:\n" + "\n".join("  " + ln for ln in lines) + "\n")
    started = time.monotonic()
    with pytest.raises(ConfigError, match=r"bomb.yaml: .*aliases"):
        load_config(bomb, environ={})
    assert time.monotonic() - started < 2


def test_exponents_without_a_dot_are_numbers():
    cfg = load_config(CONFIG, ["recommender.max_cost_per_inference=1e-15"], environ={})
    assert cfg.recommender.max_cost_per_inference == 1e-15


def test_a_few_aliases_still_work(tmp_path):
    text = CONFIG.read_text().replace("max_latency_ms: 20", "max_latency_ms: &sla 20")
    assert text != CONFIG.read_text()
    path = tmp_path / "c.yaml"
    path.write_text(text)
    assert load_config(path, environ={}).recommender.max_latency_ms == 20


@given(st.text(max_size=40))
@settings(max_examples=150, deadline=None)
def test_any_prefix_is_either_a_clean_s3_path_or_refused_by_name(prefix):
    try:
        cfg = load_config(CONFIG, [], environ={"RTB_MLOPS__AWS__PREFIX": json.dumps(prefix)})
    except ConfigError as exc:
        assert "aws.prefix" in str(exc) or "environment variable" in str(exc)
        return
    assert re.fullmatch(r"[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*", cfg.aws.prefix)


@given(st.one_of(st.floats(), st.integers(), st.booleans(), st.text(max_size=8)))
@settings(max_examples=150, deadline=None)
def test_any_peak_rate_is_a_positive_finite_number_or_refused(value):
    try:
        cfg = load_config(CONFIG, [], environ={"RTB_MLOPS__RECOMMENDER__PEAK_REQUESTS_PER_SECOND": json.dumps(value)})
    except ConfigError as exc:
        assert "recommender.peak_requests_per_second" in str(exc) or "environment variable" in str(exc)
        return
    peak = cfg.recommender.peak_requests_per_second
    assert not isinstance(value, bool) and math.isfinite(peak) and peak > 0
