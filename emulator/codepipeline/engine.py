"""CodePipeline executions that run: stages in order, actions by runOrder, as the pipeline's
service role; a failed action fails its stage (actions already running in the same runOrder
finish) and the execution.

Several executions of one pipeline follow its execution mode (CodePipeline User Guide, "How
pipeline executions work", https://docs.aws.amazon.com/codepipeline/latest/userguide/concepts-how-it-works.html):
- SUPERSEDED (the default): a stage processes one execution at a time and is locked while it
  does; an execution that reaches a locked stage waits in front of it; a more recent execution
  arriving there supersedes the waiting one (status Superseded), which goes no further.
  Executions are superseded only between stages, never inside one: an execution waiting at a
  manual approval keeps its place, and the newer one waits in front of that stage.
- QUEUED (V2): as SUPERSEDED, but waiting executions enter the stage one by one in order.
- PARALLEL (V2): executions run independently, no stage is locked.
"""

from __future__ import annotations

import copy
import logging
import threading
from typing import Any

from moto.codepipeline.models import codepipeline_backends

from emulator.clock import Clock
from emulator.codebuild.builds import CodeBuild
from emulator.codepipeline import actions
from emulator.codepipeline.models import ActionRun, Execution, Unresolved, now, resolve
from emulator.context import Context
from emulator.iam import principals
from emulator.iam.on_behalf import refused_to
from emulator.iam.policy import Check
from emulator.protocol import ApiError, validation

log = logging.getLogger("rtb_mlops.emulator")
SERVICE = "codepipeline.amazonaws.com"


class PipelineRuns:
    def __init__(self, ctx: Context, codebuild: CodeBuild, clock: Clock):
        self.ctx, self.codebuild, self.clock = ctx, codebuild, clock
        self.executions: dict[str, Execution] = {}
        self.tokens: dict[str, str] = {}  # clientRequestToken -> execution id
        self._cond = threading.Condition()
        self._holders: dict[tuple[str, str], str] = {}  # (pipeline, stage) -> execution id
        self._waiting: dict[tuple[str, str], list[Execution]] = {}
        self.stage_latest: dict[tuple[str, str], Execution] = {}
        self.action_latest: dict[tuple[str, str, str], ActionRun] = {}

    def pipeline(self, name: str) -> dict[str, Any]:
        found = codepipeline_backends[self.ctx.account][self.ctx.region].pipelines.get(name)
        if found is None:
            raise ApiError(
                "PipelineNotFoundException", f"Account '{self.ctx.account}' does not have a pipeline with name '{name}'"
            )
        return found.pipeline

    def execution(self, pipeline: str, execution_id: str) -> Execution:
        found = self.executions.get(execution_id)
        if found is None or found.name != pipeline:
            raise ApiError(
                "PipelineExecutionNotFoundException",
                f"Pipeline execution '{execution_id}' does not exist in pipeline '{pipeline}'",
            )
        return found

    # --- starting -----------------------------------------------------------------------------
    def start(
        self, name: str, given: list[dict[str, str]], trigger: dict[str, str], request_token: str | None = None
    ) -> Execution:
        if request_token and request_token in self.tokens:
            return self.executions[self.tokens[request_token]]
        declaration = self.pipeline(name)
        variables = _variables(declaration, given)
        execution = Execution(copy.deepcopy(declaration), variables, trigger)
        self.executions[execution.id] = execution
        if request_token:
            self.tokens[request_token] = execution.id
        threading.Thread(target=self._run, args=(execution,), name=f"codepipeline-{execution.id}", daemon=True).start()
        return execution

    def created(self, name: str) -> None:
        """A new pipeline's first execution, as CodePipeline starts one on creation."""
        caller = principals.current()
        trigger = {"triggerType": "CreatePipeline", "triggerDetail": caller.arn if caller else ""}
        try:
            self.start(name, [], trigger)
        except ApiError as exc:  # a variable without a default: the execution cannot run
            failed = Execution(copy.deepcopy(self.pipeline(name)), {}, trigger)
            failed.set("Failed", exc.message)
            self.executions[failed.id] = failed

    def event(self, pipeline_arn: str, role_arn: str | None, event: dict[str, Any]) -> bool:
        """An EventBridge rule's target: EventBridge starts the pipeline as the target's role,
        which must trust events.amazonaws.com and allow codepipeline:StartPipelineExecution
        (EventBridge User Guide, "Using IAM roles for EventBridge targets")."""
        name = pipeline_arn.rsplit(":", 1)[-1]
        try:
            creds = principals.assume(
                role_arn or "", "events.amazonaws.com", "events", self.ctx.account, self.ctx.region
            )
        except principals.NotTrusted as exc:
            log.warning("event %s not delivered to %s: %s", event.get("id"), pipeline_arn, exc)
            return False
        role = principals.resolve(creds.access_key_id, creds.session_token, self.ctx.account)
        refusal = refused_to(role, [Check("codepipeline:StartPipelineExecution", pipeline_arn)])
        if refusal:
            log.warning("event %s not delivered to %s: %s", event.get("id"), pipeline_arn, refusal)
            return False
        self.start(name, [], {"triggerType": "CloudWatchEvent", "triggerDetail": str(event.get("id", ""))})
        return True

    # --- running ------------------------------------------------------------------------------
    def _run(self, e: Execution) -> None:
        try:
            self._stages(e)
        except Exception as exc:  # an emulator bug fails the execution, visibly
            log.exception("codepipeline execution %s crashed in the emulator", e.id)
            e.set("Failed", f"{type(exc).__name__}: {exc}")

    def _stages(self, e: Execution) -> None:
        try:
            creds = principals.assume(
                e.pipeline["roleArn"], SERVICE, f"codepipeline-{e.id}"[:64], self.ctx.account, self.ctx.region
            )
        except principals.NotTrusted as exc:
            e.set("Failed", f"CodePipeline is not authorized to perform AssumeRole on role: {exc}")
            return
        env = actions.ActionEnv(
            self.ctx,
            self.codebuild,
            self.clock,
            principals.resolve(creds.access_key_id, creds.session_token, self.ctx.account),
        )
        for stage in e.pipeline["stages"]:
            if not self._enter(e, stage["name"]):
                return
            failure = self._run_stage(e, stage, env)
            # A stage is unlocked once its execution is done with it; the execution then waits
            # in front of the next stage, where a newer one may supersede it.
            self._leave(e, stage["name"])
            if failure or e.stop.is_set():
                e.set("Stopped" if e.stop.is_set() else "Failed", failure or "")
                log.info("codepipeline %s execution %s %s: %s", e.name, e.id, e.status, e.summary)
                return
        e.set("Succeeded")
        log.info("codepipeline %s execution %s Succeeded", e.name, e.id)

    def _enter(self, e: Execution, stage: str) -> bool:
        """Waits until the stage takes the execution; False if it was superseded or stopped."""
        key = (e.name, stage)
        with self._cond:
            e.stage, e.waiting = stage, True
            if e.mode != "PARALLEL":
                queue = self._waiting.setdefault(key, [])
                if e.mode == "SUPERSEDED":
                    for older in [w for w in queue if w.start <= e.start]:
                        older.set("Superseded")
                        queue.remove(older)
                    if queue:  # a more recent execution already waits here
                        e.set("Superseded")
                        return False
                # In the order the executions started, not the order their threads got here.
                queue.insert(sum(w.start <= e.start for w in queue), e)
                while not (self._holders.get(key) is None and queue[0] is e):
                    if e.status == "Superseded" or e.stop.is_set():
                        if e in queue:
                            queue.remove(e)
                        if e.status != "Superseded":
                            e.set("Stopped")
                        self._cond.notify_all()
                        return False
                    self._cond.wait(0.5)
                queue.pop(0)
                self._holders[key] = e.id
            e.waiting = False
            self.stage_latest[key] = e
            e.updated = now()
            return True

    def _leave(self, e: Execution, stage: str) -> None:
        with self._cond:
            if self._holders.get((e.name, stage)) == e.id:
                del self._holders[(e.name, stage)]
            self._cond.notify_all()

    def _run_stage(self, e: Execution, stage: dict[str, Any], env: actions.ActionEnv) -> str | None:
        """None if every action succeeded, else the first failure's message."""
        orders = sorted({int(a.get("runOrder", 1)) for a in stage["actions"]})
        for order in orders:
            group = [a for a in stage["actions"] if int(a.get("runOrder", 1)) == order]
            runs = [ActionRun(stage["name"], a, e.id, int(e.pipeline.get("version", 1))) for a in group]
            threads = [threading.Thread(target=self._act, args=(run, e, env), daemon=True) for run in runs]
            for run, thread in zip(runs, threads, strict=True):
                e.actions.append(run)
                self.action_latest[(e.name, stage["name"], run.name)] = run
                thread.start()
            for thread in threads:
                thread.join()
            failed = [r for r in runs if r.status != "Succeeded"]
            if failed:
                return (failed[0].error or {}).get("message") or failed[0].summary or f"{failed[0].name} failed"
            if e.stop.is_set():
                return None
        return None

    def _act(self, run: ActionRun, e: Execution, env: actions.ActionEnv) -> None:
        try:
            run.resolved = {k: resolve(str(v), e.scope()) for k, v in run.action.get("configuration", {}).items()}
            if run.action.get("roleArn"):
                raise actions.ActionFailed("an action-level roleArn is not emulated; the pipeline's role acts")
            provider = actions.provider(run.action)
            if provider is None:
                t = run.action["actionTypeId"]
                raise actions.ActionFailed(
                    f"action type {t['category']}/{t['owner']}/{t['provider']} is not emulated"
                    f" (emulated: {', '.join('/'.join(k) for k in actions.PROVIDERS)})"
                )
            provider(run, e, env)
            if run.action.get("namespace"):
                e.namespaces[run.action["namespace"]] = dict(run.outputs)
        except Unresolved as exc:
            run.finish(
                "Failed",
                error={
                    "code": "JobFailed",
                    "message": f"The variable {exc} in the configuration of action {run.name} could not be resolved",
                },
            )
        except actions.ActionFailed as exc:
            if run.status == "InProgress":  # a rejection or an abandon has already said why
                run.finish("Failed", error={"code": "JobFailed", "message": str(exc)})
        except Exception as exc:
            log.exception("codepipeline action %s crashed in the emulator", run.name)
            run.finish("Failed", error={"code": "JobFailed", "message": f"{type(exc).__name__}: {exc}"})
        e.updated = now()

    # --- people and stops -----------------------------------------------------------------------
    def put_approval(self, params: dict[str, Any]) -> dict[str, Any]:
        declaration = self.pipeline(params["pipelineName"])
        stage = next((s for s in declaration["stages"] if s["name"] == params["stageName"]), None)
        if stage is None:
            raise ApiError("StageNotFoundException", f"Stage {params['stageName']} not found")
        if not any(a["name"] == params["actionName"] for a in stage["actions"]):
            raise ApiError("ActionNotFoundException", f"Action {params['actionName']} not found")
        run = self.action_latest.get((params["pipelineName"], params["stageName"], params["actionName"]))
        if run is None or run.action["actionTypeId"]["provider"] != "Manual":
            raise ApiError("InvalidApprovalTokenException", "The approval token is not valid.")
        if run.status != "InProgress" or run.decided.is_set():
            raise ApiError("ApprovalAlreadyCompletedException", "The approval request has already been completed.")
        if run.token != params["token"]:
            raise ApiError("InvalidApprovalTokenException", "The approval token is not valid.")
        result = params["result"]
        caller = principals.current()
        run.updated_by = caller.arn if caller else ""
        if result["status"] == "Approved":
            run.finish("Succeeded", result["summary"])
        else:
            run.finish("Failed", result["summary"], {"code": "JobFailed", "message": f"Rejected: {result['summary']}"})
        run.decided.set()
        return {"approvedAt": run.changed}

    def stop(self, params: dict[str, Any]) -> dict[str, Any]:
        e = self.execution(params["pipelineName"], params["pipelineExecutionId"])
        if e.status == "Stopping" and not params.get("abandon"):
            raise ApiError("DuplicatedStopRequestException", "The execution is already stopping.")
        if e.status not in ("InProgress", "Stopping"):
            raise ApiError(
                "PipelineExecutionNotStoppableException", f"Execution {e.id} is {e.status} and cannot be stopped."
            )
        e.abandon = bool(params.get("abandon"))
        e.set("Stopping", params.get("reason", ""))
        e.stop.set()
        with self._cond:
            self._cond.notify_all()
        return {"pipelineExecutionId": e.id}

    def shutdown(self) -> None:
        for e in self.executions.values():
            e.abandon = True
            e.stop.set()


def _variables(declaration: dict[str, Any], given: list[dict[str, str]]) -> dict[str, str]:
    """The execution's pipeline-level variables: the values given, else the defaults
    (CodePipeline User Guide, "Variables reference": pipeline-level variables, V2 only)."""
    declared = {v["name"]: v for v in declaration.get("variables") or []}
    if given and declaration.get("pipelineType", "V1") != "V2":
        raise validation("Pipeline-level variables can only be passed to a V2 pipeline.")
    values = {name: v.get("defaultValue") for name, v in declared.items()}
    for var in given:
        if var["name"] not in declared:
            raise validation(f"Variable {var['name']} is not declared in pipeline {declaration['name']}.")
        values[var["name"]] = var["value"]
    missing = sorted(name for name, value in values.items() if value is None)
    if missing:
        raise validation(f"Variable(s) {', '.join(missing)} have no default value and must be given a value.")
    return {k: str(v) for k, v in values.items()}
