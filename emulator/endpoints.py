"""Endpoints backed by real model-server processes.

CreateEndpoint and UpdateEndpoint answer at once, with the endpoint `Creating`/`Updating`,
as AWS does; a thread then resolves the config to its model package's artifact, starts a
model server and, when it answers /ping, makes it serve: InService. An update keeps the old
server serving until the new one is ready (with a DeploymentConfig, `blue_green` shifts traffic),
and a failed update leaves the old one in service. A server that dies marks the endpoint
Failed. Each transition emits the documented Endpoint State Change event.

A variant runs as many model servers as its current instance count, up to a local cap
(`model_servers.max_local_instances`); invocations take them in turn and are recorded as
CloudWatch metrics. Application Auto Scaling changes the desired count; the current count
follows after a provisioning delay on the compressed clock, the endpoint `Updating` meanwhile.
"""

from __future__ import annotations

import http.client
import logging
import random
import threading
import time
from dataclasses import dataclass
from typing import Any

from moto.core.utils import utcnow
from moto.sagemaker.exceptions import ValidationError
from moto.sagemaker.models import sagemaker_backends

from emulator import blue_green
from emulator.clock import Clock
from emulator.cloudwatch.models import Invocation, MetricStore
from emulator.context import Context
from emulator.events import EventBus
from emulator.model_servers import ServerPool, server_kind
from emulator.moto_fixes import endpoint_to_update, record_deployment
from emulator.protocol import ApiError, operation, validation
from emulator.quotas import AccountQuotas, endpoint_instances
from emulator.quotas.limits import check_endpoint_instances
from model_registry.endpoints import package_of_model, primary_container, specification_of_model
from model_registry.names import ENDPOINT_CHANGE, EVENT_SOURCE, VARIANT
from model_registry.packages import specification_container

log = logging.getLogger("rtb_mlops.emulator")
# How long AWS takes to bring new instances into service (AWS seconds, on the compressed clock).
PROVISIONING_SECONDS = 180


@dataclass
class _Serving:
    pool: ServerPool
    config_name: str
    stopping: bool = False
    # A blue/green update's new fleet and the share of traffic it takes while it is tried.
    green: ServerPool | None = None
    green_share: float = 0.0

    def route(self) -> ServerPool:
        green = self.green
        return green if green is not None and random.random() < self.green_share else self.pool  # noqa: S311


class Endpoints:
    def __init__(
        self, ctx: Context, bus: EventBus, clock: Clock, metrics: MetricStore, quotas: AccountQuotas | None = None
    ):
        self.ctx, self.bus, self.clock, self.metrics = ctx, bus, clock, metrics
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
        rollout = blue_green.Rollout.from_request(params.get("DeploymentConfig"))
        threading.Thread(target=self._bring_up, args=(name, config, True, rollout), daemon=True).start()
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
        if endpoint.endpoint_status not in ("InService", "Updating", "RollingBack") or current is None:
            raise ApiError("ValidationError", f"Endpoint {name} is {endpoint.endpoint_status}, not InService.")
        began = time.perf_counter()
        host, port = current.route().next().url.removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=60)
        try:
            model_began = time.perf_counter()
            conn.request("POST", "/invocations", body=body, headers={"Content-Type": content_type or "text/csv"})
            r = conn.getresponse()
            data = r.read()
            model_us = (time.perf_counter() - model_began) * 1e6
        except OSError as exc:
            self._record(name, began, 0.0, 500)
            raise ApiError("ModelError", f"Received server error from primary: {exc}", 424) from None
        finally:
            conn.close()
        self._record(name, began, model_us, r.status)
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

    def _record(self, name: str, began: float, model_us: float, status: int) -> None:
        endpoint = self.backend.endpoints.get(name)
        variant = (endpoint.production_variants or [{}])[0] if endpoint else {}
        total_us = (time.perf_counter() - began) * 1e6
        self.metrics.record(
            Invocation(
                at=time.time(),
                endpoint=name,
                variant=variant.get("VariantName", VARIANT),
                model_us=model_us,
                overhead_us=max(0.0, total_us - model_us),
                status=status,
                instances=int(variant.get("CurrentInstanceCount") or 1),
            )
        )

    # --- Application Auto Scaling's side (emulator.autoscaling.models.Fleet) ----------------
    def desired_count(self, endpoint: str, variant: str) -> int | None:
        found = self.backend.endpoints.get(endpoint)
        if found is None or found.endpoint_status != "InService" or endpoint not in self.serving:
            return None
        for v in found.production_variants:
            if v["VariantName"] == variant:
                return int(v.get("DesiredInstanceCount") or 1)
        return None

    def set_desired_count(self, endpoint: str, variant: str, count: int, cause: str) -> None:
        """As UpdateEndpointWeightsAndCapacities: Updating, then the new count serving."""
        found = self.backend.endpoints[endpoint]
        for v in found.production_variants:
            if v["VariantName"] == variant:
                was = v.get("DesiredInstanceCount")
                log.info("endpoint %s/%s: desired %s -> %s (%s)", endpoint, variant, was, count, cause)
                v["DesiredInstanceCount"] = count
        found.endpoint_status = "Updating"
        threading.Thread(target=self._provision, args=(endpoint, variant, count), daemon=True).start()

    def _provision(self, endpoint: str, variant: str, count: int) -> None:
        self.clock.sleep(PROVISIONING_SECONDS)
        found = self.backend.endpoints.get(endpoint)
        serving = self.serving.get(endpoint)
        if found is None or serving is None:
            return
        try:
            running = serving.pool.resize(count)
        except Exception as exc:
            log.warning("endpoint %s: scaling to %s failed: %s", endpoint, count, exc)
            running = len(serving.pool.servers)
        for v in found.production_variants:
            if v["VariantName"] == variant:
                v["CurrentInstanceCount"] = count
        found.endpoint_status = "InService"
        found.last_modified_time = utcnow()
        log.info("endpoint %s/%s: %s instances in service, %s local servers", endpoint, variant, count, running)

    def shutdown(self) -> None:
        for name in list(self.serving):
            self._retire(name)

    # --- lifecycle -----------------------------------------------------------------------
    def _arn(self, name: str) -> str:
        return f"arn:aws:sagemaker:{self.ctx.region}:{self.ctx.account}:endpoint/{name.lower()}"

    def _resolve(self, config_name: str) -> tuple[str, dict[str, str], str]:
        """(ModelDataUrl, environment, server kind) of the config's first variant's model: for a
        model made from a package, its container of the specification the model names
        (`InferenceSpecificationName`; none: the primary one), served as that image is here."""
        config = self.backend.describe_endpoint_config(config_name)
        model = self.backend.describe_model(config["ProductionVariants"][0]["ModelName"]).gen_response_object()
        container = primary_container(model)
        env = dict(container.get("Environment") or {})
        package_arn = package_of_model(model)
        if package_arn:
            package = self.backend.describe_model_package(package_arn).gen_response_object()
            spec = specification_container(package, specification_of_model(model))
            return spec["ModelDataUrl"], {**(spec.get("Environment") or {}), **env}, server_kind(spec["Image"])
        return container["ModelDataUrl"], env, server_kind(container.get("Image", ""))

    def _check_quotas(self, config_name: str) -> None:
        with self._lock:
            used = endpoint_instances.in_use(self.backend, self.pending)
        check_endpoint_instances(self.quotas, used, endpoint_instances.of_config(self.backend, config_name))

    def _bring_up(self, name: str, config_name: str, updating: bool, rollout: blue_green.Rollout | None = None) -> None:
        try:
            self._start(name, config_name, updating, rollout)
        finally:
            self.pending.pop(name, None)

    def _start(self, name: str, config_name: str, updating: bool, rollout: blue_green.Rollout | None) -> None:
        endpoint = self.backend.endpoints[name]
        config = self.backend.endpoint_configs[config_name]
        instances = int(config.production_variants[0].get("InitialInstanceCount") or 1)
        try:
            url, env, kind = self._resolve(config_name)
            pool = ServerPool(self.ctx.fetch_s3(url), env, kind)
            pool.resize(instances)
        except Exception as exc:
            reason = f"model server for {config_name} failed to start: {exc}"
            log.warning("endpoint %s: %s", name, reason)
            endpoint.failure_reason = reason
            endpoint.endpoint_status = "InService" if updating else "Failed"
            self._emit(endpoint)
            return
        previous = self.serving.get(name)
        if previous is not None and rollout is not None:
            fired = self._shift_traffic(name, previous, pool, rollout)
            if fired:
                self._roll_back(endpoint, previous, pool, fired)
                return
        with self._lock:
            self.serving[name] = _Serving(pool, config_name)
        if previous is not None:
            previous.stopping = True
            previous.pool.stop()
        endpoint.endpoint_config_name = config_name
        endpoint.production_variants = endpoint._process_production_variants(config.production_variants)
        endpoint.failure_reason = None
        endpoint.endpoint_status = "InService"
        endpoint.last_modified_time = utcnow()
        log.info("endpoint %s InService with %s, %s local servers", name, config_name, len(pool.servers))
        self._emit(endpoint)
        threading.Thread(target=self._watch, args=(name, self.serving[name]), daemon=True).start()

    def _shift_traffic(self, name: str, blue: _Serving, green: ServerPool, rollout: blue_green.Rollout) -> str | None:
        """Green takes the first share, then all traffic while it bakes; the alarm that fired, if any."""
        args = (self.clock, self.ctx.account, self.ctx.region)
        blue.green, blue.green_share = green, rollout.first_share
        log.info("endpoint %s: %.0f%% of traffic on the new fleet", name, rollout.first_share * 100)
        fired = blue_green.watch(rollout, rollout.wait_seconds, *args)
        if fired is None:
            blue.green_share = 1.0
            log.info("endpoint %s: all traffic on the new fleet, baking", name)
            fired = blue_green.watch(rollout, rollout.baking_seconds, *args)
        return fired

    def _roll_back(self, endpoint: Any, blue: _Serving, green: ServerPool, alarm: str) -> None:
        """Traffic back to the old fleet, the new one torn down: InService on the old config."""
        endpoint.endpoint_status = "RollingBack"
        self._emit(endpoint)
        blue.green, blue.green_share = None, 0.0
        green.stop()
        endpoint.failure_reason = f"Deployment rolled back: alarm {alarm} went into ALARM state."
        endpoint.endpoint_status = "InService"
        endpoint.last_modified_time = utcnow()
        log.warning("endpoint %s: rolled back to %s (%s)", endpoint.endpoint_name, blue.config_name, alarm)
        self._emit(endpoint)

    def _watch(self, name: str, serving: _Serving) -> None:
        while serving.pool.alive():
            time.sleep(0.5)
        if serving.stopping or self.serving.get(name) is not serving:
            return
        endpoint = self.backend.endpoints.get(name)
        if endpoint is not None:
            endpoint.endpoint_status = "Failed"
            endpoint.failure_reason = f"model server exited: {serving.pool.reason()}"
            log.warning("endpoint %s Failed: %s", name, endpoint.failure_reason)
            self._emit(endpoint)

    def _retire(self, name: str) -> None:
        serving = self.serving.pop(name, None)
        if serving is not None:
            serving.stopping = True
            serving.pool.stop()

    def _emit(self, endpoint: Any) -> None:
        status = {"InService": "IN_SERVICE", "Failed": "FAILED", "RollingBack": "ROLLING_BACK"}.get(
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
