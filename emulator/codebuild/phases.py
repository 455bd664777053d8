"""The buildspec's command phases, with CodeBuild's transitions between them.

Each phase runs its `commands` one at a time until one fails, then its `finally` commands
whatever happened; the phase succeeds only if every command it ran did (Build specification
reference, "phases/*/finally"). After a failed phase, by default (Build phase transitions,
https://docs.aws.amazon.com/codebuild/latest/userguide/view-build-details-phases.html): a failed
INSTALL or PRE_BUILD ends the build (to FINALIZING); a failed BUILD still runs POST_BUILD, and
UPLOAD_ARTIFACTS is attempted after BUILD or POST_BUILD fails. A phase's `on-failure: ABORT`
ends the build there; `CONTINUE` goes on to the next phase as if it had not failed (the build
still fails). CODEBUILD_BUILD_SUCCEEDING is 1 until a phase fails, then 0.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from emulator.codebuild.buildspec import PHASES, Buildspec
from emulator.codebuild.shell import Shell

SUCCEEDED, FAILED, TIMED_OUT, STOPPED = "SUCCEEDED", "FAILED", "TIMED_OUT", "STOPPED"


@dataclass
class PhaseRecord:
    """One entry of a build's `phases`, as BatchGetBuilds shapes it (BuildPhase)."""

    phase_type: str
    status: str | None = None  # None while in progress
    start: datetime = field(default_factory=lambda: datetime.now(UTC))
    end: datetime | None = None
    contexts: list[dict[str, str]] = field(default_factory=list)

    def finish(self, status: str, code: str = "", message: str = "") -> None:
        self.status, self.end = status, datetime.now(UTC)
        if code or message:
            self.contexts.append({"statusCode": code, "message": message})

    def shape(self) -> dict:
        out: dict = {"phaseType": self.phase_type, "startTime": self.start}
        if self.status is not None:
            out["phaseStatus"] = self.status
        if self.end is not None:
            out.update(endTime=self.end, durationInSeconds=int((self.end - self.start).total_seconds()))
        if self.contexts:
            out["contexts"] = self.contexts
        return out


@dataclass
class Control:
    """What may end the phases early: StopBuild, or the build's timeout."""

    deadline: float  # time.monotonic()
    stop: threading.Event = field(default_factory=threading.Event)

    def reason(self) -> str | None:
        if self.stop.is_set():
            return STOPPED
        return TIMED_OUT if time.monotonic() >= self.deadline else None


@dataclass
class Outcome:
    succeeded: bool
    upload_artifacts: bool  # whether UPLOAD_ARTIFACTS is attempted
    ended_by: str | None = None  # STOPPED / TIMED_OUT


def _stamp() -> str:
    return datetime.now(UTC).strftime("[Container] %Y/%m/%d %H:%M:%S.%f")[:-3]


def _run_block(
    commands: tuple[str, ...], shell: Shell, log: Callable[[str], None], control: Control
) -> tuple[int, str] | None:
    """None if every command succeeded; else the failing command's status and text."""
    for command in commands:
        if control.reason():
            return 143, command
        log(f"{_stamp()} Running command {command}")
        status = shell.run(command, log)
        if status != 0:
            log(f"{_stamp()} Command did not exit successfully {command} exit status {status}")
            return status, command
    return None


def run_phase(record: PhaseRecord, spec: Buildspec, shell: Shell, log: Callable[[str], None], control: Control) -> None:
    name = record.phase_type.lower()
    log(f"{_stamp()} Entering phase {record.phase_type}")
    phase = spec.phases.get(name)
    failure = _run_block(phase.commands, shell, log, control) if phase else None
    final = _run_block(phase.finally_commands, shell, log, control) if phase else None
    ended = control.reason()
    if ended:
        record.finish(ended, "BUILD_TIMED_OUT" if ended == TIMED_OUT else "BUILD_STOPPED", f"Build {ended.lower()}")
    elif failure or final:
        status, command = failure or final  # type: ignore[misc]
        message = f"Error while executing command: {command}. Reason: exit status {status}"
        record.finish(FAILED, "COMMAND_EXECUTION_ERROR", message)
        log(f"{_stamp()} Phase context status code: COMMAND_EXECUTION_ERROR Message: {message}")
    else:
        record.finish(SUCCEEDED)
    log(f"{_stamp()} Phase complete: {record.phase_type} State: {record.status}")


def run_phases(
    spec: Buildspec,
    shell: Shell,
    log: Callable[[str], None],
    control: Control,
    on_phase: Callable[[PhaseRecord], None] = lambda record: None,
) -> Outcome:
    """Runs install → post_build with CodeBuild's transitions; `on_phase` sees each phase start."""
    watchdog = threading.Timer(max(0.0, control.deadline - time.monotonic()), shell.kill)
    watchdog.daemon = True
    watchdog.start()
    try:
        return _run_phases(spec, shell, log, control, on_phase)
    finally:
        watchdog.cancel()


def _run_phases(
    spec: Buildspec,
    shell: Shell,
    log: Callable[[str], None],
    control: Control,
    on_phase: Callable[[PhaseRecord], None],
) -> Outcome:
    succeeding = True
    shell.set("CODEBUILD_BUILD_SUCCEEDING", "1")
    for name in PHASES:
        record = PhaseRecord(name.upper())
        on_phase(record)
        run_phase(record, spec, shell, log, control)
        if record.status in (STOPPED, TIMED_OUT):
            return Outcome(False, False, record.status)
        if record.status == SUCCEEDED:
            continue
        succeeding = False
        shell.set("CODEBUILD_BUILD_SUCCEEDING", "0")
        on_failure = spec.phases[name].on_failure if name in spec.phases else None
        if on_failure == "CONTINUE":
            continue
        if on_failure == "ABORT" or name in ("install", "pre_build"):
            return Outcome(False, False)
        # A failed BUILD goes on to POST_BUILD, and UPLOAD_ARTIFACTS follows either.
    return Outcome(succeeding, True)
