"""The CLI shows a user's mistake as one line and exit status 2, and a bug as a traceback."""

import argparse

import pytest

from model_registry.artifact.errors import ArtifactError
from model_registry.contract import InvalidMetadata, MissingRecommendation
from model_registry.errors import UserError
from pipelines.cli import _dispatch
from pipelines.config import ConfigError
from steps.decision import DecisionInputs


def _raising(exc: Exception) -> argparse.Namespace:
    def func(_args):
        raise exc

    return argparse.Namespace(func=func)


@pytest.mark.parametrize(
    "exc",
    [
        ConfigError("c.yaml:3: deploy.max_instances: expected max_instances >= min_instances, got 1 < 2"),
        ArtifactError("model.tar.gz", "file not found"),
        InvalidMetadata("arn: environment 'x' is not KEY=VALUE pairs"),
        MissingRecommendation("arn", ["recommended_instance_type"]),
    ],
)
def test_user_errors_are_one_line_and_exit_2(exc, capsys):
    assert _dispatch(_raising(exc)) == 2
    assert capsys.readouterr().err == f"error: {exc}\n"


def test_a_bad_flag_names_the_field_and_what_was_expected():
    with pytest.raises(UserError, match=r"safety_factor must be in \(0, 1\], got 1.5"):
        DecisionInputs(max_latency_ms=20, peak_rps=1, safety_factor=1.5)


def test_a_value_error_that_is_not_the_users_keeps_its_traceback():
    with pytest.raises(ValueError, match="a bug"):
        _dispatch(_raising(ValueError("a bug")))


def test_missing_recommendation_is_still_a_key_error():
    assert issubclass(MissingRecommendation, KeyError)
