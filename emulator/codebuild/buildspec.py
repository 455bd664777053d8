"""A buildspec read as CodeBuild reads it (Build specification reference for CodeBuild,
https://docs.aws.amazon.com/codebuild/latest/userguide/build-spec-ref.html).

Versions 0.1 and 0.2; `env.variables`, `env.parameter-store`, `env.exported-variables`; the four
phases with `commands`, `finally` and `on-failure` (ABORT or CONTINUE); `artifacts.files`,
`base-directory`, `discard-paths`. A malformed file fails the build as CodeBuild fails it: in
DOWNLOAD_SOURCE, with a YAML_FILE_ERROR naming what was expected.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

PHASES = ("install", "pre_build", "build", "post_build")
VERSIONS = ("0.1", "0.2")
ON_FAILURE = ("ABORT", "CONTINUE")


class BuildspecError(ValueError):
    """The buildspec cannot be used; the message is CodeBuild's YAML_FILE_ERROR context."""


@dataclass(frozen=True)
class Phase:
    name: str
    commands: tuple[str, ...] = ()
    finally_commands: tuple[str, ...] = ()
    on_failure: str | None = None  # None: the default phase transitions


@dataclass(frozen=True)
class Artifacts:
    files: tuple[str, ...] = ()
    base_directory: str = ""
    discard_paths: bool = False


@dataclass(frozen=True)
class Buildspec:
    version: str
    variables: dict[str, str] = field(default_factory=dict)
    parameter_store: dict[str, str] = field(default_factory=dict)
    exported_variables: tuple[str, ...] = ()
    phases: dict[str, Phase] = field(default_factory=dict)
    artifacts: Artifacts = Artifacts()

    @property
    def shared_shell(self) -> bool:
        """0.2 runs every command in one shell instance (state carries over); 0.1 each in its own."""
        return self.version == "0.2"


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BuildspecError(f"YAML_FILE_ERROR: Expected {where} to be of map type, found {type(value).__name__}")
    return value


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise BuildspecError(f"YAML_FILE_ERROR: Expected {where} to be of list type, found {type(value).__name__}")
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise BuildspecError(
                f"YAML_FILE_ERROR: Expected {where}[{i}] to be of string type: found {type(item).__name__} instead"
            )
    return tuple(value)


def _scalars(value: Any, where: str) -> dict[str, str]:
    out = {}
    for key, item in _mapping(value, where).items():
        # YAML reads `yes` as a boolean and `0.2` as a number; CodeBuild wants the text.
        if isinstance(item, bool) or not isinstance(item, (str, int, float)):
            raise BuildspecError(f"YAML_FILE_ERROR: Expected {where}[{key}] to be of string type")
        out[str(key)] = str(item)
    return out


def _phase(name: str, body: Any) -> Phase:
    body = _mapping(body, f"phases.{name}")
    unknown = set(body) - {"commands", "finally", "on-failure", "runtime-versions", "run-as"}
    if unknown:
        raise BuildspecError(f"YAML_FILE_ERROR: Unknown keys in phases.{name}: {', '.join(sorted(unknown))}")
    on_failure = body.get("on-failure")
    if on_failure is not None and on_failure not in ON_FAILURE:
        raise BuildspecError(
            f"YAML_FILE_ERROR: phases.{name}.on-failure is {on_failure!r}; the emulator runs"
            f" {' or '.join(ON_FAILURE)} (RETRY is not emulated)"
        )
    return Phase(
        name,
        _strings(body.get("commands"), f"phases.{name}.commands"),
        _strings(body.get("finally"), f"phases.{name}.finally"),
        on_failure,
    )


def parse(text: str) -> Buildspec:
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise BuildspecError(f"YAML_FILE_ERROR: {exc}") from None
    doc = _mapping(doc, "buildspec")
    version = str(doc.get("version", ""))
    if version not in VERSIONS:
        raise BuildspecError(f"YAML_FILE_ERROR: invalid buildspec version {version!r}, expected one of {VERSIONS}")
    env = _mapping(doc.get("env"), "env")
    phases = _mapping(doc.get("phases"), "phases")
    unknown = set(phases) - set(PHASES)
    if unknown:
        raise BuildspecError(f"YAML_FILE_ERROR: Unknown phase(s) {', '.join(sorted(unknown))}; expected {PHASES}")
    artifacts = _mapping(doc.get("artifacts"), "artifacts")
    return Buildspec(
        version=version,
        variables=_scalars(env.get("variables"), "env.variables"),
        parameter_store=_scalars(env.get("parameter-store"), "env.parameter-store"),
        exported_variables=_strings(env.get("exported-variables"), "env.exported-variables"),
        phases={name: _phase(name, phases[name]) for name in PHASES if name in phases},
        artifacts=Artifacts(
            _strings(artifacts.get("files"), "artifacts.files"),
            str(artifacts.get("base-directory") or ""),
            artifacts.get("discard-paths") in (True, "yes"),
        ),
    )
