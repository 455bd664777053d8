"""The emulator's WSGI application: moto's, with what moto lacks answered here first.

Requests are routed by what AWS itself uses: the JSON protocol's `X-Amz-Target` header,
and for the SageMaker runtime the `/endpoints/{name}/invocations` path. Everything else
goes to moto unchanged.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

from emulator import cloudformation_fixes, local_image, moto_fixes
from emulator.autoscaling import responses as autoscaling_responses
from emulator.autoscaling.models import TargetTracking
from emulator.clock import Clock
from emulator.cloudwatch import responses as cloudwatch_responses
from emulator.cloudwatch import utilization
from emulator.cloudwatch.alarms import AlarmEvaluator
from emulator.cloudwatch.instances import UtilizationSampler, endpoint_instances, local_vcpus
from emulator.cloudwatch.models import NAMESPACE as INVOCATIONS_NAMESPACE
from emulator.cloudwatch.models import MetricStore, traffic_scale
from emulator.codebuild.builds import CodeBuild
from emulator.codebuild.responses import CodeBuildApi
from emulator.codepipeline import cloudformation as pipeline_resources
from emulator.codepipeline.engine import PipelineRuns
from emulator.codepipeline.responses import TARGET as CODEPIPELINE
from emulator.codepipeline.responses import CodePipelineApi
from emulator.context import Context
from emulator.control import PERSON_FILE
from emulator.endpoints import Endpoints
from emulator.events import EventBus
from emulator.iam import principals, simulate
from emulator.iam.enforce import Enforcer
from emulator.iam.enforce import error_response as refused
from emulator.lambdas import Lambdas
from emulator.model_servers import max_local_instances
from emulator.pipeline_engine import PipelineEngine
from emulator.protocol import ApiError, Operations, error_response, json_response, operation
from emulator.quotas import AccountQuotas, lambda_concurrency
from emulator.quotas.catalog import LAMBDA_CONCURRENCY
from emulator.quotas.service import ServiceQuotas
from emulator.recommender.jobs import Recommender
from emulator.validation import RequestValidator
from model_registry.names import EVENT_SOURCE, PACKAGE_CHANGE

log = logging.getLogger("rtb_mlops.emulator")
_INVOKE = re.compile(r"^/endpoints/([^/]+)/invocations$")
# Strict by default; `off` only to debug a flow (AWS itself cannot be told to skip validation).
VALIDATION_FLAG = "RTB_EMULATOR_VALIDATION"


class Emulator:
    def __init__(self, url: str, region: str, work_dir: Path):
        moto_fixes.apply()
        cloudformation_fixes.apply()
        self.ctx = Context(url=url, region=region, work_dir=work_dir)
        self.quotas = AccountQuotas.from_environment()
        lambda_concurrency.apply(self.quotas)
        concurrency = self.quotas.value(LAMBDA_CONCURRENCY) if self.quotas.enforced else 1000
        self.iam = Enforcer(self.ctx.account)
        self._write_person(work_dir)
        local_image.publish(self.ctx.account, region)
        self.lambdas = Lambdas(self.ctx, int(concurrency))
        self.bus = EventBus(self.ctx.account, region, self.lambdas)
        self.clock = Clock.from_env()
        self.metrics = MetricStore(self.clock, traffic_scale())
        self.endpoints = Endpoints(self.ctx, self.bus, self.clock, self.metrics, self.quotas)
        self.alarms = self._start_monitoring()
        self.recommender = Recommender(self.ctx)
        self.pipelines = PipelineEngine(self.ctx, self.lambdas)
        self.codebuild = CodeBuild(self.ctx)
        self.codepipeline = PipelineRuns(self.ctx, self.codebuild, self.clock)
        self.bus.start_pipeline = self.codepipeline.event
        pipeline_resources.created_listeners.append(self.codepipeline.created)
        self.started = time.time()
        self.validator = RequestValidator() if os.environ.get(VALIDATION_FLAG, "on") != "off" else None
        self.sagemaker = Operations("SageMaker")
        self.runtime = Operations("SageMakerRuntime")
        self.events = Operations("AWSEvents")
        self.service_quotas = Operations("ServiceQuotasV20190624")
        code = [Operations("CodeBuild_20161006"), Operations(CODEPIPELINE)]
        self.services = [self.sagemaker, self.events, self.service_quotas, *code]
        quota_api = ServiceQuotas(self.quotas, self.ctx.account, region)
        implementations = (
            self.endpoints,
            self.recommender,
            self.pipelines,
            quota_api,
            CodeBuildApi(self.codebuild),
            CodePipelineApi(self.codepipeline),
        )
        for service in (self.runtime, *self.services):
            for implementation in (*implementations, self):
                service.register(implementation)
        self.moto = DomainDispatcherApplication(create_backend_app)
        moto_fixes.subscribe(self._approval_changed)

    def _write_person(self, work_dir: Path) -> None:
        """The CLI user's credentials, for `emulator up` to hand to the person (only they may read them)."""
        path = work_dir / PERSON_FILE
        path.touch(mode=0o600)
        path.write_text(json.dumps(principals.create_person(self.ctx.account, self.ctx.region).environment()))

    def _start_monitoring(self) -> AlarmEvaluator:
        """CloudWatch metrics (invocations; the model servers' CPU and memory) and alarms, and
        target tracking acting on its alarms."""
        usage = utilization.UtilizationStore(self.clock)
        self.utilization = UtilizationSampler(usage, lambda: endpoint_instances(self.endpoints), self.clock)
        self.utilization.start()
        stores = {INVOCATIONS_NAMESPACE: self.metrics, utilization.NAMESPACE: usage}
        cloudwatch_responses.install(stores)
        autoscaling_responses.install()
        tracking = TargetTracking(self.clock, self.ctx.account, self.ctx.region, self.endpoints)
        alarms = AlarmEvaluator(stores, self.clock, self.ctx.account, self.ctx.region)
        alarms.subscribe(lambda alarm: tracking.on_alarm(alarm, time.time()))
        alarms.subscribe(lambda alarm: tracking.enforce_bounds())
        alarms.start()
        return alarms

    def _settings(self) -> dict[str, float]:
        """What figures measured here depend on (a load test's report states them)."""
        return {
            "time_scale": self.clock.scale,
            "traffic_scale": self.metrics.count_scale / self.clock.scale,
            "max_local_instances": max_local_instances(),
            "local_instance_vcpus": local_vcpus(),
        }

    # --- events the emulator emits ----------------------------------------------------------
    def _approval_changed(self, package: Any, previous: str | None) -> None:
        d = package.gen_response_object()
        detail = {k: v for k, v in d.items() if k not in ("CreationTime", "LastModifiedTime")}
        detail["CreationTime"] = int(package.creation_time.timestamp() * 1000)
        detail["LastModifiedTime"] = int(time.time() * 1000)
        log.info("model package %s: %s -> %s", package.arn, previous, package.model_approval_status)
        self.bus.publish(
            EVENT_SOURCE,
            PACKAGE_CHANGE,
            json.loads(json.dumps(detail, default=str)),
            [package.arn],
        )

    @operation("AWSEvents.PutEvents")
    def _put_events(self, params: dict[str, Any]) -> dict[str, Any]:
        entries = []
        for entry in params.get("Entries", []):
            try:
                detail = json.loads(entry.get("Detail") or "{}")
            except ValueError:
                entries.append({"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is invalid"})
                continue
            event = self.bus.publish(
                entry.get("Source", ""), entry.get("DetailType", ""), detail, entry.get("Resources", [])
            )
            entries.append({"EventId": event["id"]})
        return {"FailedEntryCount": sum("ErrorCode" in e for e in entries), "Entries": entries}

    def shutdown(self) -> None:
        self.alarms.stop()
        self.utilization.stop()
        self.pipelines.shutdown()
        self.codepipeline.shutdown()
        self.codebuild.shutdown()
        self.endpoints.shutdown()

    # --- WSGI ---------------------------------------------------------------------------------
    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/_emulator/health":
            health = {
                "status": "ok",
                "uptime": time.time() - self.started,
                "settings": self._settings(),
                "iam_denials": self.iam.denials,
                "iam_denied": list(self.iam.recent),
            }
            return self._reply(start_response, *json_response(health))
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        refusal = self.iam.authorize(environ, body)
        if refusal is not None:
            return self._reply(start_response, *refused(refusal))
        if simulate.is_simulation(body):
            return self._reply(start_response, *simulate.answer(body, self.ctx.account))
        target = environ.get("HTTP_X_AMZ_TARGET")
        handler = next((h for h in (s.find(target) for s in self.services) if h is not None), None)
        try:
            if self.validator is not None:
                self.validator.check(target, body)
            match = _INVOKE.match(path)
            if match and environ.get("REQUEST_METHOD") == "POST":
                invoke = self.runtime.handlers["InvokeEndpoint"]
                return self._reply(start_response, *invoke(match.group(1), body, environ.get("CONTENT_TYPE")))
            if handler is not None:
                return self._reply(start_response, *json_response(handler(json.loads(body or b"{}"))))
        except ApiError as err:
            return self._reply(start_response, *error_response(err))
        except Exception as exc:
            # A bug here must not look like a transient AWS fault (botocore would retry a 500).
            log.exception("emulator error in %s", target or path)
            return self._reply(
                start_response, *error_response(ApiError("EmulatorError", f"{type(exc).__name__}: {exc}"))
            )
        return self.moto(environ, start_response)

    @staticmethod
    def _reply(start_response: Callable, status: int, headers: dict[str, str], body: bytes) -> list[bytes]:
        start_response(
            f"{status} {'OK' if status < 400 else 'Error'}", [*headers.items(), ("Content-Length", str(len(body)))]
        )
        return [body]
