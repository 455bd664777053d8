"""Buildspec phases as CodeBuild runs them: one shell for the build (0.2), `finally`, the default
transitions after a failed phase, `on-failure: ABORT|CONTINUE`, stop and timeout."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from emulator.codebuild.buildspec import BuildspecError, parse
from emulator.codebuild.phases import Control, Outcome, PhaseRecord, run_phases
from emulator.codebuild.shell import Shell


def run(tmp_path: Path, text: str, timeout: float = 60) -> tuple[Outcome, list[PhaseRecord], list[str]]:
    spec = parse(text)
    shell = Shell(tmp_path, {"PATH": "/usr/bin:/bin", "STAGE": "test"}, tmp_path, spec.shared_shell)
    lines: list[str] = []
    records: list[PhaseRecord] = []
    outcome = run_phases(spec, shell, lines.append, Control(time.monotonic() + timeout), records.append)
    return outcome, records, lines


def statuses(records: list[PhaseRecord]) -> dict[str, str | None]:
    return {r.phase_type: r.status for r in records}


def output(lines: list[str]) -> list[str]:
    return [ln for ln in lines if not ln.startswith("[Container]")]


def test_version_02_keeps_directory_variables_and_functions_between_commands_and_phases(tmp_path):
    (tmp_path / "sub").mkdir()
    outcome, _, lines = run(
        tmp_path,
        """
version: 0.2
phases:
  install:
    commands:
      - cd sub
      - GREETING=hello
      - greet() { echo "$GREETING from $(basename $PWD)"; }
  build:
    commands:
      - greet
""",
    )
    assert outcome.succeeded
    assert output(lines) == ["hello from sub"]


def test_version_01_runs_each_command_in_a_fresh_shell(tmp_path):
    _, _, lines = run(tmp_path, "version: 0.1\nphases:\n  build:\n    commands:\n      - X=1\n      - echo x=$X\n")
    assert output(lines) == ["x="]


def test_a_failed_command_skips_the_rest_of_the_phase_runs_finally_and_fails_the_phase(tmp_path):
    outcome, records, lines = run(
        tmp_path,
        """
version: 0.2
phases:
  build:
    commands:
      - echo one
      - exit 3
      - echo never
    finally:
      - echo cleanup
""",
    )
    assert output(lines) == ["one", "cleanup"]
    build = next(r for r in records if r.phase_type == "BUILD")
    assert build.status == "FAILED"
    assert build.contexts == [
        {
            "statusCode": "COMMAND_EXECUTION_ERROR",
            "message": "Error while executing command: exit 3. Reason: exit status 3",
        }
    ]
    # A failed BUILD still runs POST_BUILD and attempts UPLOAD_ARTIFACTS.
    assert statuses(records) == {
        "INSTALL": "SUCCEEDED",
        "PRE_BUILD": "SUCCEEDED",
        "BUILD": "FAILED",
        "POST_BUILD": "SUCCEEDED",
    }
    assert outcome == Outcome(False, True)


def test_a_failed_finally_command_fails_the_phase(tmp_path):
    outcome, records, _ = run(
        tmp_path, "version: 0.2\nphases:\n  build:\n    commands: ['true']\n    finally: ['false']\n"
    )
    assert statuses(records)["BUILD"] == "FAILED"
    assert not outcome.succeeded


def test_a_failed_pre_build_ends_the_build_without_post_build_or_artifacts(tmp_path):
    outcome, records, lines = run(
        tmp_path,
        "version: 0.2\nphases:\n  pre_build:\n    commands: ['false']\n  post_build:\n    commands: [echo post]\n",
    )
    assert statuses(records) == {"INSTALL": "SUCCEEDED", "PRE_BUILD": "FAILED"}
    assert output(lines) == []
    assert outcome == Outcome(False, False)


def test_on_failure_continue_goes_on_to_the_next_phase_but_the_build_fails(tmp_path):
    outcome, records, lines = run(
        tmp_path,
        """
version: 0.2
phases:
  install:
    on-failure: CONTINUE
    commands: ['false']
  build:
    commands: ['echo succeeding=$CODEBUILD_BUILD_SUCCEEDING']
""",
    )
    assert statuses(records)["INSTALL"] == "FAILED"
    assert statuses(records)["BUILD"] == "SUCCEEDED"
    assert output(lines) == ["succeeding=0"]
    assert outcome == Outcome(False, True)


def test_on_failure_abort_in_build_skips_post_build_and_artifacts(tmp_path):
    outcome, records, _ = run(
        tmp_path,
        "version: 0.2\nphases:\n  build:\n    on-failure: ABORT\n    commands: ['false']\n"
        "  post_build:\n    commands: [echo post]\n",
    )
    assert "POST_BUILD" not in statuses(records)
    assert outcome == Outcome(False, False)


def test_post_build_sees_that_the_build_failed(tmp_path):
    _, _, lines = run(
        tmp_path,
        "version: 0.2\nphases:\n  build:\n    commands: ['false']\n  post_build:\n"
        "    commands: ['echo succeeding=$CODEBUILD_BUILD_SUCCEEDING']\n",
    )
    assert output(lines) == ["succeeding=0"]


def test_a_timeout_kills_the_running_command_and_its_children(tmp_path):
    started = time.monotonic()
    outcome, records, _ = run(
        tmp_path, "version: 0.2\nphases:\n  build:\n    commands: ['sleep 30 & sleep 30']\n", timeout=1
    )
    assert time.monotonic() - started < 10
    assert outcome.ended_by == "TIMED_OUT"
    assert statuses(records)["BUILD"] == "TIMED_OUT"


def test_stop_ends_the_build(tmp_path):
    spec = parse("version: 0.2\nphases:\n  build:\n    commands: ['sleep 30']\n")
    shell = Shell(tmp_path, {"PATH": "/usr/bin:/bin"}, tmp_path)
    control = Control(time.monotonic() + 60)

    def stop() -> None:
        time.sleep(0.5)
        control.stop.set()
        shell.kill()

    threading.Thread(target=stop).start()
    outcome = run_phases(spec, shell, lambda line: None, control)
    assert outcome.ended_by == "STOPPED"


def test_exported_variables_read_from_the_shell(tmp_path):
    spec = parse(
        "version: 0.2\nenv:\n  exported-variables: [ARN, MISSING]\nphases:\n  build:\n    commands: ['export ARN=a:b']\n"
    )
    shell = Shell(tmp_path, {"PATH": "/usr/bin:/bin"}, tmp_path)
    run_phases(spec, shell, lambda line: None, Control(time.monotonic() + 60))
    assert shell.exported(spec.exported_variables) == {"ARN": "a:b", "MISSING": ""}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("version: 0.3\nphases: {}\n", "invalid buildspec version '0.3'"),
        (
            "version: 0.2\nphases:\n  build:\n    commands: [{a: 1}]\n",
            "Expected phases.build.commands[0] to be of string",
        ),
        ("version: 0.2\nphases:\n  deploy:\n    commands: [x]\n", "Unknown phase(s) deploy"),
        ("version: 0.2\nphases:\n  build:\n    on-failure: IGNORE\n    commands: [x]\n", "on-failure is 'IGNORE'"),
        ("version: 0.2\nenv:\n  variables:\n    A: [1]\n", "Expected env.variables[A] to be of string type"),
    ],
)
def test_malformed_buildspecs_are_refused_naming_the_field(text, expected):
    with pytest.raises(BuildspecError, match="YAML_FILE_ERROR") as err:
        parse(text)
    assert expected in str(err.value)


def test_buildspec_values_are_text():
    spec = parse("version: 0.2\nenv:\n  variables:\n    N: 3\n    STAGE: build\nphases: {}\n")
    assert spec.variables == {"N": "3", "STAGE": "build"}
