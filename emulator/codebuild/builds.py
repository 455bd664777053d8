"""CodeBuild builds that run: source downloaded, buildspec phases in a local shell, artifacts
uploaded, output in CloudWatch Logs, as the project's service role.

A build goes SUBMITTED → QUEUED (at most `RTB_EMULATOR_CODEBUILD_CONCURRENCY` builds run at
once, default 2, for a 2-core machine) → PROVISIONING (CodeBuild assumes the service role, which
must trust codebuild.amazonaws.com, and needs it to allow writing the build's log stream) →
DOWNLOAD_SOURCE (S3, NO_SOURCE or CODEPIPELINE input artifacts; the buildspec read) → INSTALL …
POST_BUILD (`phases`) → UPLOAD_ARTIFACTS → FINALIZING → COMPLETED. Environment variables: the
buildspec's, overridden by the project's, overridden by StartBuild's (Build specification
reference, env/variables); PARAMETER_STORE values are read as the service role. Commands call
the emulator as AWS with the role's temporary credentials, as a build container's SDKs do.
`timeoutInMinutes` is real minutes (a build's commands take real time).
"""

from __future__ import annotations

import io
import logging
import os
import threading
import time
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from moto.codebuild.models import codebuild_backends
from moto.logs.models import logs_backends

from emulator.codebuild import images
from emulator.codebuild import phases as ph
from emulator.codebuild.buildspec import Buildspec, BuildspecError, parse
from emulator.codebuild.shell import Shell
from emulator.context import Context
from emulator.iam import principals
from emulator.iam.on_behalf import refused_to, s3_object_arn
from emulator.iam.policy import Check
from emulator.protocol import ApiError
from model_registry.aws import client

log = logging.getLogger("rtb_mlops.emulator")
CONCURRENCY_SETTING = "RTB_EMULATOR_CODEBUILD_CONCURRENCY"
SERVICE = "codebuild.amazonaws.com"
_GROUPS = threading.Lock()
FLUSH_SECONDS = 2.0


class BuildFailed(RuntimeError):
    """A phase before the commands failed; `code` is the phase context's status code."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


@dataclass(frozen=True)
class PipelineIO:
    """What CodePipeline hands a build of a CODEPIPELINE-source project: its input artifacts'
    zips (the primary first) and where its output artifact goes."""

    inputs: tuple[tuple[str, str], ...]  # (artifact name, s3://... zip)
    outputs: tuple[tuple[str, str], ...] = ()
    initiator: str = ""


@dataclass
class Build:
    id: str
    arn: str
    number: int
    project: dict[str, Any]  # the project's metadata as moto keeps it
    overrides: dict[str, Any]
    pipeline: PipelineIO | None
    initiator: str
    status: str = "IN_PROGRESS"
    current_phase: str = "SUBMITTED"
    phases: list[ph.PhaseRecord] = field(default_factory=list)
    start: datetime = field(default_factory=lambda: datetime.now(UTC))
    end: datetime | None = None
    environment_variables: list[dict[str, str]] = field(default_factory=list)
    exported: dict[str, str] = field(default_factory=dict)
    log_group: str = ""
    log_stream: str = ""
    # The deadline is set when the build leaves the queue; a StopBuild may come before.
    control: ph.Control = field(default_factory=lambda: ph.Control(float("inf")))
    shell: Shell | None = None
    done: threading.Event = field(default_factory=threading.Event)

    @property
    def project_name(self) -> str:
        return self.project["name"]

    @property
    def timeout_minutes(self) -> int:
        return int(self.overrides.get("timeoutInMinutesOverride") or self.project.get("timeoutInMinutes") or 60)

    def enter(self, phase_type: str) -> ph.PhaseRecord:
        if self.phases and self.phases[-1].status is None:
            self.phases[-1].finish(ph.SUCCEEDED)
        record = ph.PhaseRecord(phase_type)
        self.phases.append(record)
        self.current_phase = phase_type
        return record

    def source(self) -> dict[str, Any]:
        source = dict(self.project.get("source") or {})
        if self.overrides.get("sourceTypeOverride"):
            source["type"] = self.overrides["sourceTypeOverride"]
        if self.overrides.get("sourceLocationOverride"):
            source["location"] = self.overrides["sourceLocationOverride"]
        if self.overrides.get("buildspecOverride"):
            source["buildspec"] = self.overrides["buildspecOverride"]
        return source

    def shape(self, region: str, account: str) -> dict[str, Any]:
        """The Build structure BatchGetBuilds returns (CodeBuild API Reference, "Build")."""
        env = dict(self.project.get("environment") or {})
        env["environmentVariables"] = self.environment_variables
        out: dict[str, Any] = {
            "id": self.id,
            "arn": self.arn,
            "buildNumber": self.number,
            "startTime": self.start,
            "currentPhase": self.current_phase,
            "buildStatus": self.status,
            "projectName": self.project_name,
            "phases": [p.shape() for p in self.phases],
            "source": self.source(),
            "artifacts": self.project.get("artifacts") or {},
            "environment": env,
            "serviceRole": self.project.get("serviceRole", ""),
            "timeoutInMinutes": self.timeout_minutes,
            "queuedTimeoutInMinutes": int(self.project.get("queuedTimeoutInMinutes") or 480),
            "buildComplete": self.done.is_set(),
            "initiator": self.initiator,
            "encryptionKey": self.project.get("encryptionKey", f"arn:aws:kms:{region}:{account}:alias/aws/s3"),
            "exportedEnvironmentVariables": [{"name": k, "value": v} for k, v in self.exported.items()],
        }
        if self.log_group:
            out["logs"] = {
                "groupName": self.log_group,
                "streamName": self.log_stream,
                "cloudWatchLogsArn": f"arn:aws:logs:{region}:{account}:log-group:{self.log_group}"
                f":log-stream:{self.log_stream}",
                "cloudWatchLogs": {"status": "ENABLED"},
            }
        if self.end is not None:
            out["endTime"] = self.end
        return out


class LogWriter:
    """The build's lines in its CloudWatch Logs stream, written as they come (at most every
    FLUSH_SECONDS, and at each phase's start and the build's end)."""

    def __init__(self, account: str, region: str, group: str, stream: str):
        self.logs = logs_backends[account][region]
        self.group, self.stream = group, stream
        self.pending: list[str] = []
        self.flushed = time.monotonic()
        self._lock = threading.Lock()
        with _GROUPS:  # two builds of one project may start at once
            if group not in self.logs.groups:
                self.logs.create_log_group(group, tags={})
        self.logs.create_log_stream(group, stream)

    def line(self, text: str) -> None:
        with self._lock:
            self.pending.append(text)
            due = time.monotonic() - self.flushed >= FLUSH_SECONDS
        if due:
            self.flush()

    def flush(self) -> None:
        with self._lock:
            lines, self.pending = self.pending, []
            self.flushed = time.monotonic()
        if lines:
            now = int(time.time() * 1000)
            self.logs.put_log_events(self.group, self.stream, [{"timestamp": now, "message": ln} for ln in lines])


def _stamp() -> str:
    return datetime.now(UTC).strftime("[Container] %Y/%m/%d %H:%M:%S.%f")[:-3]


class CodeBuild:
    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.builds: dict[str, Build] = {}
        self.numbers: dict[str, int] = {}
        self._lock = threading.Lock()
        self._slots = threading.Semaphore(int(os.environ.get(CONCURRENCY_SETTING, "2")))

    @property
    def projects(self) -> dict[str, Any]:
        return codebuild_backends[self.ctx.account][self.ctx.region].codebuild_projects

    def project(self, name_or_arn: str) -> dict[str, Any]:
        for project in self.projects.values():
            if name_or_arn in (project.project_metadata["name"], project.arn):
                return project.project_metadata
        raise ApiError("ResourceNotFoundException", f"Project cannot be found: {name_or_arn}")

    def start(
        self, project_name: str, overrides: dict[str, Any], pipeline: PipelineIO | None = None, initiator: str = ""
    ) -> Build:
        project = self.project(project_name)
        name = project["name"]
        with self._lock:
            self.numbers[name] = self.numbers.get(name, 0) + 1
            build_id = f"{name}:{uuid.uuid4()}"
            build = Build(
                build_id,
                f"arn:aws:codebuild:{self.ctx.region}:{self.ctx.account}:build/{build_id}",
                self.numbers[name],
                project,
                overrides,
                pipeline,
                initiator or (pipeline.initiator if pipeline else ""),
            )
            self.builds[build_id] = build
        build.enter("SUBMITTED")
        build.enter("QUEUED")
        threading.Thread(target=self._run, args=(build,), name=f"codebuild-{build_id}", daemon=True).start()
        return build

    def stop(self, build_id: str) -> Build:
        build = self.get(build_id)
        if not build.done.is_set():
            build.control.stop.set()
            if build.shell is not None:
                build.shell.kill()
        return build

    def get(self, build_id: str) -> Build:
        if build_id not in self.builds:
            raise ApiError("ResourceNotFoundException", f"Build {build_id} does not exist")
        return self.builds[build_id]

    def shutdown(self) -> None:
        for build in list(self.builds.values()):
            if not build.done.is_set():
                self.stop(build.id)

    # --- running ----------------------------------------------------------------------------
    def _run(self, build: Build) -> None:
        queued = float(
            build.overrides.get("queuedTimeoutInMinutesOverride") or build.project.get("queuedTimeoutInMinutes") or 480
        )
        deadline, slot = time.monotonic() + queued * 60, False
        while not slot and not build.control.stop.is_set() and time.monotonic() < deadline:
            slot = self._slots.acquire(timeout=0.5)
        try:
            self._attempt(build, slot)
        finally:
            if slot:
                self._slots.release()

    def _attempt(self, build: Build, slot: bool) -> None:
        build.control.deadline = time.monotonic() + build.timeout_minutes * 60
        writer: LogWriter | None = None
        try:
            if build.control.stop.is_set():
                raise BuildFailed("BUILD_STOPPED", "Build stopped while queued")
            if not slot:
                raise BuildFailed("BUILD_TIMED_OUT", "Build timed out while queued (queuedTimeoutInMinutes)")
            build.enter("PROVISIONING")
            role, writer = self._provision(build)
            build.enter("DOWNLOAD_SOURCE")
            work = self.ctx.folder("codebuild", build.id.split(":", 1)[1])
            src = work / "src"
            spec = self._download(build, role, src)
            env = self._environment(build, role, spec, src)
            self._commands(build, spec, env, src, work, writer, role)
        except BuildFailed as exc:
            build.status = {"BUILD_STOPPED": ph.STOPPED, "BUILD_TIMED_OUT": ph.TIMED_OUT}.get(exc.code, ph.FAILED)
            build.phases[-1].finish(build.status, exc.code, exc.message)
            if writer is not None:
                writer.line(f"{_stamp()} Phase context status code: {exc.code} Message: {exc.message}")
        except Exception as exc:  # an emulator bug fails the build, visibly
            log.exception("build %s crashed in the emulator", build.id)
            build.phases[-1].finish("FAULT", "EMULATOR_ERROR", f"{type(exc).__name__}: {exc}")
            build.status = "FAULT"
        finally:
            if build.shell is not None:
                build.shell.kill()
            build.enter("FINALIZING")
            build.enter("COMPLETED")
            build.end = datetime.now(UTC)
            if writer is not None:
                writer.flush()
            build.done.set()
            log.info("codebuild %s %s", build.id, build.status)

    def _provision(self, build: Build) -> tuple[principals.Credentials, LogWriter | None]:
        role_arn = build.project.get("serviceRole", "")
        session = f"AWSCodeBuild-{build.id.split(':', 1)[1]}"
        try:
            role = principals.assume(role_arn, SERVICE, session, self.ctx.account, self.ctx.region)
        except principals.NotTrusted:
            raise BuildFailed(
                "CLIENT_ERROR", f"CodeBuild is not authorized to perform: sts:AssumeRole on {role_arn}"
            ) from None
        logs_config = (build.project.get("logsConfig") or {}).get("cloudWatchLogs") or {}
        if logs_config.get("status") == "DISABLED":
            return role, None
        group = logs_config.get("groupName") or f"/aws/codebuild/{build.project_name}"
        stream = "/".join(p for p in (logs_config.get("streamName"), build.id.split(":", 1)[1]) if p)
        arn = f"arn:aws:logs:{self.ctx.region}:{self.ctx.account}:log-group:{group}"
        refusal = refused_to(
            self._principal(role),
            [
                Check("logs:CreateLogStream", f"{arn}:log-stream:{stream}"),
                Check("logs:PutLogEvents", f"{arn}:log-stream:{stream}"),
            ],
        )
        if refusal:
            raise BuildFailed(
                "ACCESS_DENIED",
                f"Service role {role_arn} does not allow AWS CodeBuild to create Amazon CloudWatch Logs log streams"
                f" for build {build.arn}. Error message: {refusal}",
            )
        build.log_group, build.log_stream = group, stream
        return role, LogWriter(self.ctx.account, self.ctx.region, group, stream)

    def _principal(self, role: principals.Credentials) -> principals.Principal:
        return principals.resolve(role.access_key_id, role.session_token, self.ctx.account)

    def _read_s3(self, role: principals.Credentials, uri: str) -> bytes:
        refusal = refused_to(self._principal(role), [Check("s3:GetObject", s3_object_arn(uri))])
        if refusal:
            raise BuildFailed("ACCESS_DENIED", refusal)
        try:
            return self.ctx.read_s3(uri)
        except FileNotFoundError as exc:
            raise BuildFailed("CLIENT_ERROR", f"no matching source found at {uri}: {exc}") from None

    def _download(self, build: Build, role: principals.Credentials, src: Path) -> Buildspec:
        src.mkdir(parents=True, exist_ok=True)
        source = build.source()
        kind = source.get("type", "NO_SOURCE")
        if kind == "CODEPIPELINE":
            if build.pipeline is None:
                raise BuildFailed("CLIENT_ERROR", "a CODEPIPELINE source is only given by CodePipeline")
            for i, (name, uri) in enumerate(build.pipeline.inputs):
                target = src if i == 0 else src.parent / f"src-{name}"
                _unzip(self._read_s3(role, uri), target, uri)
        elif kind == "S3":
            location = "s3://" + str(source.get("location", "")).removeprefix("s3://")
            if location.endswith("/"):
                for key in self.ctx.list_s3(location):
                    dest = src / key[len(location) :]
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    dest.write_bytes(self._read_s3(role, key))
            else:
                _unzip(self._read_s3(role, location), src, location)
        elif kind != "NO_SOURCE":
            raise BuildFailed("CLIENT_ERROR", f"source type {kind} is not emulated (S3, NO_SOURCE, CODEPIPELINE are)")
        return self._buildspec(source, role, src)

    def _buildspec(self, source: dict[str, Any], role: principals.Credentials, src: Path) -> Buildspec:
        given = str(source.get("buildspec") or "")
        if "\n" in given or given.lstrip().startswith("version"):
            text = given  # the buildspec itself, inline
        elif given.startswith("arn:aws:s3:::"):
            text = self._read_s3(role, "s3://" + given.removeprefix("arn:aws:s3:::")).decode()
        else:
            path = src / (given or "buildspec.yml")
            if not path.is_file():
                raise BuildFailed("YAML_FILE_ERROR", f"stat {path.relative_to(src.parent)}: no such file or directory")
            text = path.read_text()
        try:
            return parse(text)
        except BuildspecError as exc:
            raise BuildFailed("YAML_FILE_ERROR", str(exc)) from None

    def _environment(self, build: Build, role: principals.Credentials, spec: Buildspec, src: Path) -> dict[str, str]:
        """Buildspec < project < StartBuild, then CodeBuild's own variables and credentials."""
        given = [
            *((build.project.get("environment") or {}).get("environmentVariables") or []),
            *(build.overrides.get("environmentVariablesOverride") or []),
        ]
        declared = [
            *({"name": k, "value": v, "type": "PLAINTEXT"} for k, v in spec.variables.items()),
            *({"name": k, "value": v, "type": "PARAMETER_STORE"} for k, v in spec.parameter_store.items()),
            *given,
        ]
        values = {var["name"]: self._value(var, role) for var in declared}
        build.environment_variables = given  # as the API shows them: the project's and StartBuild's
        uid = build.id.split(":", 1)[1]
        image = str((build.project.get("environment") or {}).get("image", ""))
        env = {
            "PATH": images.path_for(image, os.environ.get("PATH", "/usr/bin:/bin")),
            "HOME": os.environ.get("HOME", "/root"),
            **self.ctx.aws_environment(role.environment()),
            **values,
            "CODEBUILD_BUILD_ID": build.id,
            "CODEBUILD_BUILD_ARN": build.arn,
            "CODEBUILD_BUILD_NUMBER": str(build.number),
            "CODEBUILD_BUILD_IMAGE": image,
            "CODEBUILD_INITIATOR": build.initiator,
            "CODEBUILD_SRC_DIR": str(src),
            "CODEBUILD_START_TIME": str(int(build.start.timestamp() * 1000)),
            "CODEBUILD_LOG_PATH": uid,
        }
        if build.pipeline is not None:
            for name, _ in build.pipeline.inputs[1:]:
                env[f"CODEBUILD_SRC_DIR_{name}"] = str(src.parent / f"src-{name}")
        return env

    def _value(self, var: dict[str, str], role: principals.Credentials) -> str:
        kind = var.get("type", "PLAINTEXT")
        if kind == "PLAINTEXT":
            return var["value"]
        if kind == "PARAMETER_STORE":
            ssm = client("ssm", self.ctx.region, role.environment())
            try:
                return ssm.get_parameter(Name=var["value"], WithDecryption=True)["Parameter"]["Value"]
            except Exception as exc:  # botocore ClientError: AccessDenied, ParameterNotFound
                raise BuildFailed("CLIENT_ERROR", f"Parameter Store {var['value']} for {var['name']}: {exc}") from None
        raise BuildFailed("CLIENT_ERROR", f"environment variable type {kind} is not emulated")

    def _commands(
        self,
        build: Build,
        spec: Buildspec,
        env: dict[str, str],
        src: Path,
        work: Path,
        writer: LogWriter | None,
        role: principals.Credentials,
    ) -> None:
        line: Callable[[str], None] = writer.line if writer else (lambda text: None)
        state = work / "shell"
        state.mkdir(exist_ok=True)
        build.shell = Shell(src, env, state, spec.shared_shell)

        def entered(record: ph.PhaseRecord) -> None:
            if build.phases and build.phases[-1].status is None:
                build.phases[-1].finish(ph.SUCCEEDED)
            build.phases.append(record)
            build.current_phase = record.phase_type
            if writer:
                writer.flush()

        outcome = ph.run_phases(spec, build.shell, line, build.control, entered)
        build.exported = build.shell.exported(spec.exported_variables) if not outcome.ended_by else {}
        if outcome.upload_artifacts:
            build.enter("UPLOAD_ARTIFACTS")
            self._upload(build, spec, src, role)
        failed = outcome.ended_by or (None if outcome.succeeded else ph.FAILED)
        build.status = failed or ph.SUCCEEDED

    def _upload(self, build: Build, spec: Buildspec, src: Path, role: principals.Credentials) -> None:
        artifacts = build.project.get("artifacts") or {}
        kind = artifacts.get("type", "NO_ARTIFACTS")
        if kind == "NO_ARTIFACTS" or not spec.artifacts.files:
            return
        if kind == "CODEPIPELINE" and (build.pipeline is None or not build.pipeline.outputs):
            return  # the action declares no output artifact: nothing to upload to
        files = _matching(spec, src)
        if not files:
            raise BuildFailed("CLIENT_ERROR", "no matching artifact paths found")
        if kind == "CODEPIPELINE":
            assert build.pipeline is not None
            blobs = {build.pipeline.outputs[0][1]: _zip(files)}
        elif kind == "S3":
            key = "/".join(
                p
                for p in (
                    artifacts.get("path"),
                    build.id.split(":", 1)[1] if artifacts.get("namespaceType") == "BUILD_ID" else "",
                    artifacts.get("name") or build.project_name,
                )
                if p
            )
            base = f"s3://{artifacts['location']}/{key}"
            if artifacts.get("packaging") == "ZIP":
                blobs = {base: _zip(files)}
            else:
                blobs = {f"{base}/{name}": path.read_bytes() for name, path in files.items()}
        else:
            raise BuildFailed("CLIENT_ERROR", f"artifacts type {kind} is not emulated")
        principal = self._principal(role)
        for uri, data in blobs.items():
            refusal = refused_to(principal, [Check("s3:PutObject", s3_object_arn(uri))])
            if refusal:
                raise BuildFailed("ACCESS_DENIED", refusal)
            self.ctx.write_s3(uri, data)


def _unzip(data: bytes, target: Path, uri: str) -> None:
    target.mkdir(parents=True, exist_ok=True)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for member in zf.namelist():
                # No member may land outside the source folder.
                if member.startswith("/") or ".." in Path(member).parts:
                    raise BuildFailed("CLIENT_ERROR", f"{uri}: unsafe path {member!r} in the zip")
            zf.extractall(target)
    except zipfile.BadZipFile:
        raise BuildFailed("CLIENT_ERROR", f"{uri} is not a zip file") from None


def _matching(spec: Buildspec, src: Path) -> dict[str, Path]:
    base = src / spec.artifacts.base_directory if spec.artifacts.base_directory else src
    found: dict[str, Path] = {}
    for pattern in spec.artifacts.files:
        for path in sorted(base.glob(pattern)):
            if path.is_file():
                name = path.name if spec.artifacts.discard_paths else path.relative_to(base).as_posix()
                found[name] = path
    return found


def _zip(files: dict[str, Path]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, path in files.items():
            zf.write(path, name)
    return buf.getvalue()
