"""Endpoints backed by real model-server processes.

CreateEndpoint and UpdateEndpoint answer at once, with the endpoint `Creating`/`Updating`,
as AWS does; a thread then resolves the config to its model package's artifact, starts a
model server and, when it answers /ping, makes it serve: InService. An update keeps the old
server serving until the new one is ready (blue/green, without the traffic-shifting waits),
and a failed update leaves the old one in service. A server that dies marks the endpoint
Failed. Each transition emits the documented Endpoint State Change event.
"""

from __future__ import annotations

import http.client
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from moto.core.utils import utcnow
from moto.sagemaker.exceptions import ValidationError
from moto.sagemaker.models import sagemaker_backends

from emulator.context import Context
from emulator.events import EventBus
from emulator.model_servers import ModelServer
from emulator.moto_fixes import endpoint_to_update, record_deployment
from emulator.protocol import ApiError, operation, validation
from emulator.quotas import AccountQuotas, endpoint_instances
from emulator.quotas.limits import check_endpoint_instances
from model_registry.endpoints import package_of_model, primary_container
from model_registry.names import ENDPOINT_CHANGE, EVENT_SOURCE, VARIANT

log = logging.getLogger("rtb_mlops.emulator")


@dataclass
class _Serving:
    server: ModelServer
    config_name: str
    stopping: bool = False


class Endpoints:
    def __init__(self, ctx: Context, bus: EventBus, quotas: AccountQuotas | None = None):
        self.ctx, self.bus = ctx, bus
        self.quotas = quotas or AccountQuotas(enforced=False)
        self.serving: dict[str, _Serving] = {}
        self.pending: dict[str, str] = {}  # endpoint -> the config an update is bringing up
        self._lock = threading.Lock()

    @property
    def backend(self):
        return sagemaker_backends[self.ctx.account][self.ctx.region]

    # --- API ---------------------------------------------------------------------------
    @operation("SageMaker.CreateEndpoint")
    def create(self, params: dict[str, Any]) -> dict[str, Any]:
        name, config = params["EndpointName"], params["EndpointConfigName"]
        if name in self.backend.endpoints:
            raise validation(f'Cannot create already existing endpoint "{self._arn(name)}".')
        self._check_quotas(config)
        endpoint = self.backend.create_endpoint(
            endpoint_name=name, endpoint_config_name=config, tags=params.get("Tags")
        )
        endpoint.endpoint_status = "Creating"
        threading.Thread(target=self._bring_up, args=(name, config, False), daemon=True).start()
        return {"EndpointArn": endpoint.arn}

    @operation("SageMaker.UpdateEndpoint")
    def update(self, params: dict[str, Any]) -> dict[str, Any]:
        name, config = params["EndpointName"], params["EndpointConfigName"]
        try:
            endpoint = endpoint_to_update(self.backend, name, config)
        except ValidationError as err:
            raise validation(err.message) from None
        self._check_quotas(config)
        endpoint.endpoint_status = "Updating"
        self.pending[name] = config
        record_deployment(self.backend, name, config)
        threading.Thread(target=self._bring_up, args=(name, config, True), daemon=True).start()
        return {"EndpointArn": endpoint.arn}

    @operation("SageMaker.DeleteEndpoint")
    def delete(self, params: dict[str, Any]) -> dict[str, Any]:
        name = params["EndpointName"]
        if name not in self.backend.endpoints:
            raise validation(f'Could not find endpoint "{self._arn(name)}".')
        self._retire(name)
        self.backend.delete_endpoint(name)
        return {}

    @operation("SageMakerRuntime.InvokeEndpoint")
    def invoke(self, name: str, body: bytes, content_type: str | None) -> tuple[int, dict[str, str], bytes]:
        endpoint = self.backend.endpoints.get(name)
        if endpoint is None:
            raise ApiError("ValidationError", f"Endpoint {name} of account {self.ctx.account} not found.")
        current = self.serving.get(name)
        if endpoint.endpoint_status not in ("InService", "Updating") or current is None:
            raise ApiError("ValidationError", f"Endpoint {name} is {endpoint.endpoint_status}, not InService.")
        host, port = current.server.url.removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=60)
        try:
            conn.request("POST", "/invocations", body=body, headers={"Content-Type": content_type or "text/csv"})
            r = conn.getresponse()
            data = r.read()
        except OSError as exc:
            raise ApiError("ModelError", f"Received server error from primary: {exc}", 424) from None
        finally:
            conn.close()
        if r.status != 200:
            message = data.decode("utf-8", "replace").strip()
            raise ApiError(
                "ModelError",
                f'Received client error ({r.status}) from primary with message "{message}".',
                424,
            )
        headers = {
            "Content-Type": r.getheader("Content-Type", "text/csv"),
            "x-Amzn-Invoked-Production-Variant": VARIANT,
        }
        return 200, headers, data

    def shutdown(self) -> None:
        for name in list(self.serving):
            self._retire(name)

    # --- lifecycle -----------------------------------------------------------------------
    def _arn(self, name: str) -> str:
        return f"arn:aws:sagemaker:{self.ctx.region}:{self.ctx.account}:endpoint/{name.lower()}"

    def _resolve(self, config_name: str) -> tuple[str, dict[str, str]]:
        """(ModelDataUrl, environment) of the config's first variant's model."""
        config = self.backend.describe_endpoint_config(config_name)
        model = self.backend.describe_model(config["ProductionVariants"][0]["ModelName"]).gen_response_object()
        container = primary_container(model)
        env = dict(container.get("Environment") or {})
        package_arn = package_of_model(model)
        if package_arn:
            package = self.backend.describe_model_package(package_arn).gen_response_object()
            spec = package["InferenceSpecification"]["Containers"][0]
            return spec["ModelDataUrl"], {**(spec.get("Environment") or {}), **env}
        return container["ModelDataUrl"], env

    def _check_quotas(self, config_name: str) -> None:
        with self._lock:
            used = endpoint_instances.in_use(self.backend, self.pending)
        check_endpoint_instances(self.quotas, used, endpoint_instances.of_config(self.backend, config_name))

    def _bring_up(self, name: str, config_name: str, updating: bool) -> None:
        try:
            self._start(name, config_name, updating)
        finally:
            self.pending.pop(name, None)

    def _start(self, name: str, config_name: str, updating: bool) -> None:
        endpoint = self.backend.endpoints[name]
        try:
            url, env = self._resolve(config_name)
            server = ModelServer(self.ctx.fetch_s3(url), env)
            server.start()
        except Exception as exc:
            reason = f"model server for {config_name} failed to start: {exc}"
            log.warning("endpoint %s: %s", name, reason)
            endpoint.failure_reason = reason
            endpoint.endpoint_status = "InService" if updating else "Failed"
            self._emit(endpoint)
            return
        previous = self.serving.get(name)
        with self._lock:
            self.serving[name] = _Serving(server, config_name)
        if previous is not None:
            previous.stopping = True
            previous.server.stop()
        config = self.backend.endpoint_configs[config_name]
        endpoint.endpoint_config_name = config_name
        endpoint.production_variants = endpoint._process_production_variants(config.production_variants)
        endpoint.failure_reason = None
        endpoint.endpoint_status = "InService"
        endpoint.last_modified_time = utcnow()
        log.info("endpoint %s InService with %s at %s", name, config_name, server.url)
        self._emit(endpoint)
        threading.Thread(target=self._watch, args=(name, self.serving[name]), daemon=True).start()

    def _watch(self, name: str, serving: _Serving) -> None:
        while serving.server.alive():
            time.sleep(0.5)
        if serving.stopping or self.serving.get(name) is not serving:
            return
        endpoint = self.backend.endpoints.get(name)
        if endpoint is not None:
            endpoint.endpoint_status = "Failed"
            endpoint.failure_reason = f"model server exited: {serving.server.reason()}"
            log.warning("endpoint %s Failed: %s", name, endpoint.failure_reason)
            self._emit(endpoint)

    def _retire(self, name: str) -> None:
        serving = self.serving.pop(name, None)
        if serving is not None:
            serving.stopping = True
            serving.server.stop()

    def _emit(self, endpoint: Any) -> None:
        status = {"InService": "IN_SERVICE", "Failed": "FAILED"}.get(
            endpoint.endpoint_status, endpoint.endpoint_status.upper()
        )
        variants = [
            {
                "DesiredWeight": float(v.get("DesiredWeight", 1.0)),
                "DesiredInstanceCount": float(v.get("DesiredInstanceCount", 1)),
            }
            for v in endpoint.production_variants
        ]
        detail = {
            "EndpointName": endpoint.endpoint_name,
            "EndpointArn": endpoint.arn,
            "EndpointConfigName": endpoint.endpoint_config_name,
            "ProductionVariants": variants,
            "EndpointStatus": status,
            "CreationTime": int(endpoint.creation_time.timestamp() * 1000)
            if hasattr(endpoint.creation_time, "timestamp")
            else 0,
            "LastModifiedTime": int(time.time() * 1000),
            "Tags": {},
        }
        if endpoint.failure_reason:
            detail["FailureReason"] = endpoint.failure_reason
        self.bus.publish(EVENT_SOURCE, ENDPOINT_CHANGE, detail, [endpoint.arn])
