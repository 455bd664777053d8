"""The action providers a pipeline here can run, each acting as the pipeline's service role.

- Source / AWS / S3: the object (a zip) copied into the artifact store as the output artifact;
  output variables ETag and VersionId (CodePipeline User Guide, "Amazon S3 source action
  reference").
- Build or Test / AWS / CodeBuild: a build of the project, given the input artifacts (the
  PrimarySource, else the first, as CODEBUILD_SRC_DIR), the configuration's
  EnvironmentVariables as StartBuild overrides, and the buildspec's exported variables as the
  action's output variables ("AWS CodeBuild build and test action reference"). The role needs
  codebuild:StartBuild and codebuild:BatchGetBuilds on the project.
- Approval / AWS / Manual: waits for PutApprovalResult with the action's token; a rejection
  fails the action; unanswered after 7 days (on the emulator's clock) it fails
  ("Add a manual approval action to a stage in CodePipeline").
The pipeline's role reads and writes artifacts (s3:GetObject, s3:PutObject) in the store.
"""

from __future__ import annotations

import json
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from moto.s3.models import s3_backends
from moto.sns.models import sns_backends

from emulator.clock import Clock
from emulator.codebuild.builds import CodeBuild, PipelineIO
from emulator.codepipeline.models import ActionRun, Execution
from emulator.context import Context
from emulator.iam import principals
from emulator.iam.on_behalf import refused_to, s3_object_arn
from emulator.iam.policy import Check

APPROVAL_DAYS = 7


class ActionFailed(RuntimeError):
    pass


@dataclass
class ActionEnv:
    """What an action runs with: the emulator, CodeBuild, the clock, and the role it acts as."""

    ctx: Context
    codebuild: CodeBuild
    clock: Clock
    role: principals.Principal

    def require(self, *checks: Check) -> None:
        refusal = refused_to(self.role, list(checks))
        if refusal:
            raise ActionFailed(refusal)

    def artifact_uri(self, execution: Execution, artifact: str) -> str:
        store = execution.pipeline.get("artifactStore") or {}
        if store.get("type", "S3") != "S3" or not store.get("location"):
            raise ActionFailed("the pipeline has no S3 artifact store")
        # As CodePipeline names them: PIPELINE (20 characters)/ARTIFACT (10)/random.
        return f"s3://{store['location']}/{execution.name[:20]}/{artifact[:10]}/{secrets.token_hex(4)[:7]}"

    def read(self, uri: str) -> bytes:
        self.require(Check("s3:GetObject", s3_object_arn(uri)))
        try:
            return self.ctx.read_s3(uri)
        except FileNotFoundError as exc:
            raise ActionFailed(f"The object at {uri} could not be read: {exc}") from None

    def write(self, uri: str, data: bytes) -> None:
        self.require(Check("s3:PutObject", s3_object_arn(uri)))
        self.ctx.write_s3(uri, data)


def s3_source(run: ActionRun, execution: Execution, env: ActionEnv) -> None:
    bucket, key = run.resolved["S3Bucket"], run.resolved["S3ObjectKey"]
    data = env.read(f"s3://{bucket}/{key}")
    obj = s3_backends[env.ctx.account]["aws"].get_object(bucket, key)
    for artifact in run.action.get("outputArtifacts", []):
        uri = env.artifact_uri(execution, artifact["name"])
        env.write(uri, data)
        execution.artifacts[artifact["name"]] = uri
        run.output_artifacts.append({"name": artifact["name"], "s3location": _location(uri)})
    version = getattr(obj, "version_id", None) or "null"
    run.outputs = {"ETag": str(obj.etag).strip('"'), "VersionId": str(version)}
    run.finish("Succeeded", f"Amazon S3 version id: {version}")


def _location(uri: str) -> dict[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return {"bucket": bucket, "key": key}


def _inputs(run: ActionRun, execution: Execution) -> list[tuple[str, str]]:
    names = [a["name"] for a in run.action.get("inputArtifacts", [])]
    primary = run.resolved.get("PrimarySource")
    if primary in names:
        names.remove(primary)
        names.insert(0, primary)
    missing = [n for n in names if n not in execution.artifacts]
    if missing:
        raise ActionFailed(f"input artifact(s) {', '.join(missing)} were not produced by an earlier action")
    return [(n, execution.artifacts[n]) for n in names]


def codebuild(run: ActionRun, execution: Execution, env: ActionEnv) -> None:
    project = env.codebuild.project(run.resolved["ProjectName"])
    env.require(Check("codebuild:StartBuild", project["arn"]), Check("codebuild:BatchGetBuilds", project["arn"]))
    try:
        variables = json.loads(run.resolved.get("EnvironmentVariables") or "[]")
    except ValueError:
        raise ActionFailed("EnvironmentVariables is not a JSON list of {name, value, type}") from None
    overrides = [{"type": "PLAINTEXT", **v} for v in variables]
    inputs = _inputs(run, execution)
    outputs = [(a["name"], env.artifact_uri(execution, a["name"])) for a in run.action.get("outputArtifacts", [])]
    io = PipelineIO(tuple(inputs), tuple(outputs), f"codepipeline/{execution.name}")
    build = env.codebuild.start(project["name"], {"environmentVariablesOverride": overrides}, io)
    run.external_id = build.id
    run.external_url = (
        f"https://console.aws.amazon.com/codebuild/home?region={env.ctx.region}#/builds/{build.id}/view/new"
    )
    while not build.done.wait(0.5):
        if execution.stop.is_set() and execution.abandon:
            env.codebuild.stop(build.id)
    if build.status != "SUCCEEDED":
        failed = next((p for p in reversed(build.phases) if p.status not in (None, "SUCCEEDED")), None)
        context = failed.contexts[0] if failed and failed.contexts else {}
        raise ActionFailed(
            f"Build terminated with state: {build.status}. Phase: {failed.phase_type if failed else 'UNKNOWN'},"
            f" Code: {context.get('statusCode', '')}, Message: {context.get('message', '')}"
        )
    for name, uri in outputs:
        execution.artifacts[name] = uri
        run.output_artifacts.append({"name": name, "s3location": _location(uri)})
    run.outputs = dict(build.exported)
    run.finish("Succeeded")


def manual_approval(run: ActionRun, execution: Execution, env: ActionEnv) -> None:
    topic = run.resolved.get("NotificationArn")
    run.token = str(uuid.uuid4())
    run.changed = run.start
    if topic:
        env.require(Check("sns:Publish", topic))
        message = {
            "approval": {
                "pipelineName": execution.name,
                "stageName": run.stage,
                "actionName": run.name,
                "token": run.token,
                "customData": run.resolved.get("CustomData", ""),
                "externalEntityLink": run.resolved.get("ExternalEntityLink", ""),
            }
        }
        sns_backends[env.ctx.account][env.ctx.region].publish(
            json.dumps(message), arn=topic, subject="APPROVAL NEEDED: AWS CodePipeline"
        )
    expires = time.monotonic() + env.clock.real(APPROVAL_DAYS * 86400)
    while not run.decided.wait(0.5):
        if execution.stop.is_set() and execution.abandon:
            run.finish("Abandoned")
            raise ActionFailed("Stopped")
        if time.monotonic() >= expires:
            raise ActionFailed(f"The approval was not given within {APPROVAL_DAYS} days.")
    if run.status != "Succeeded":
        raise ActionFailed(run.summary or "Rejected")


Provider = Callable[[ActionRun, Execution, ActionEnv], None]
PROVIDERS: dict[tuple[str, str, str], Provider] = {
    ("Source", "AWS", "S3"): s3_source,
    ("Build", "AWS", "CodeBuild"): codebuild,
    ("Test", "AWS", "CodeBuild"): codebuild,
    ("Approval", "AWS", "Manual"): manual_approval,
}


def provider(action: dict[str, Any]) -> Provider | None:
    t = action["actionTypeId"]
    return PROVIDERS.get((t["category"], t["owner"], t["provider"]))
