from dataclasses import fields

import pytest

from model_registry.contract import (
    ARTIFACT_SHA256,
    GATE_DECISION,
    RECOMMENDATION_ID,
    RECOMMENDATION_JOB_NAME,
    RECOMMENDED_INSTANCE_COUNT,
    RECOMMENDED_INSTANCE_TYPE,
    MissingRecommendation,
    Recommendation,
    decode_environment,
    encode_environment,
    metadata_text,
)
from model_registry.endpoints import package_of_model

REC = Recommendation(
    "job", "job/1", "ml.c6i.large", 4, 46800, 2.0, 4.2e-8, 0.119, 32760, 2, 20, {"OMP_NUM_THREADS": "2"}
)


def test_round_trip():
    assert Recommendation.from_properties("arn", REC.to_properties()) == REC


def test_the_specification_round_trips_and_the_primary_one_is_stored_as_a_dash():
    fast = Recommendation(**{**vars(REC), "inference_specification_name": "rtb-mlops-fast"})
    assert fast.to_properties()["inference_specification_name"] == "rtb-mlops-fast"
    assert Recommendation.from_properties("arn", fast.to_properties()) == fast
    assert REC.to_properties()["inference_specification_name"] == "-"
    assert Recommendation.from_properties("arn", REC.to_properties()).inference_specification_name == ""


def test_missing_keys_are_named():
    props = REC.to_properties()
    del props["recommended_instance_type"], props["target_invocations_per_instance"]
    with pytest.raises(MissingRecommendation, match="recommended_instance_type, target_invocations_per_instance"):
        Recommendation.from_properties("arn", props)


@pytest.mark.parametrize(
    ("key", "value", "fragment"),
    [
        ("recommended_instance_count", "four", "recommended_instance_count"),
        ("recommended_instance_count", "0", "must be at least 1"),
        ("cost_per_hour", "nan", "finite"),
        ("min_instance_count", "50", "1 <= min <= max"),
        ("environment", "not pairs", "KEY=VALUE"),
        ("inference_specification_name", "fast_one", "inference_specification_name must match"),
    ],
)
def test_bad_values_are_named(key, value, fragment):
    props = REC.to_properties() | {key: value}
    with pytest.raises(ValueError, match=fragment):
        Recommendation.from_properties("arn", props)


def test_environment_encoding_fits_the_api_pattern():
    text = encode_environment({"OMP_NUM_THREADS": "2", "SAGEMAKER_MODEL_SERVER_WORKERS": "1"})
    assert text == "OMP_NUM_THREADS=2 SAGEMAKER_MODEL_SERVER_WORKERS=1"
    assert metadata_text(text) == text
    assert decode_environment(text) == {"OMP_NUM_THREADS": "2", "SAGEMAKER_MODEL_SERVER_WORKERS": "1"}
    assert decode_environment(encode_environment({})) == {}
    with pytest.raises(ValueError, match="cannot be stored"):
        encode_environment({"X": '{"a": 1}'})


def test_free_text_is_cleaned_for_metadata():
    assert metadata_text("failed: latency (25 ms) > SLA, see log") == "failed: latency 25 ms SLA see log"
    assert len(metadata_text("x" * 400)) == 256


def test_the_keys_read_one_by_one_are_recommendation_fields():
    names = {f.name for f in fields(Recommendation)}
    assert {RECOMMENDATION_JOB_NAME, RECOMMENDATION_ID, RECOMMENDED_INSTANCE_TYPE, RECOMMENDED_INSTANCE_COUNT} <= names
    assert names.isdisjoint({GATE_DECISION, ARTIFACT_SHA256})


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ({"PrimaryContainer": {"ModelPackageName": "arn:pkg/1"}}, "arn:pkg/1"),
        ({"Containers": [{"ModelPackageName": "arn:pkg/2"}, {"ModelPackageName": "arn:other"}]}, "arn:pkg/2"),
        ({"PrimaryContainer": {"Image": "img", "ModelDataUrl": "s3://b/m.tar.gz"}}, None),
        ({}, None),
        (None, None),
    ],
)
def test_the_package_a_model_serves_is_read_from_either_container_shape(model, expected):
    assert package_of_model(model) == expected
