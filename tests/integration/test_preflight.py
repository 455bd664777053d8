"""`rtb-mlops preflight` on the strict emulator after `prepare_account` (both stacks deployed):
every check passes; a configuration whose model package group the deployed execution role does
not grant fails, naming the denied action, with exit status 1."""

from __future__ import annotations

from pipelines.cli import main
from pipelines.local_run import LOCAL_OVERRIDES, prepare_account
from tests.integration.test_flow import config

NAME = "preflight"


def _argv(*overrides: str) -> list[str]:
    names = [f"deploy.endpoint_name={NAME}", f"registry.model_package_group={NAME}", f"pipeline.name={NAME}"]
    names.append(f"aws.role_arn=arn:aws:iam::123456789012:role/rtb-mlops-{NAME}")
    sets = [*LOCAL_OVERRIDES, *names, *overrides]
    return ["preflight", "--config", "config/pipeline.yaml", *[a for s in sets for a in ("--set", s)]]


def test_preflight_passes_on_the_prepared_emulator_and_fails_naming_a_denied_action(capsys):
    prepare_account(config(NAME))

    assert main(_argv()) == 0, capsys.readouterr().out
    passed = capsys.readouterr().out
    assert (
        "FAIL" not in passed
        and "PASS  execution role policy" in passed
        and "PASS  deploy function role policy" in passed
    )

    assert main(_argv("registry.model_package_group=another-group")) == 1
    failed = capsys.readouterr().out
    denied = "arn:aws:sagemaker:us-east-1:123456789012:model-package/another-group/1"
    assert f"FAIL  execution role policy: denied: sagemaker:CreateModelPackage on {denied} (implicitDeny)" in failed
