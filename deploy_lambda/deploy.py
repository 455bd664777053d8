"""Deploying a model package version's recommendation to the endpoint, in order and once.

- A version at or below the one serving does not replace it (an old approval arriving
  late, or a duplicate event); the same version only has its autoscaling checked.
- An endpoint already Creating/Updating towards this version is a duplicate; towards
  another, it is busy and the call raises so Lambda retries and, at last, the DLQ holds it.
- Rollback after a rejection is the one deploy that may go to an older version.
- Two deliveries may run at once (no reserved concurrency: a new account's 10 concurrent
  executions cannot spare any). SageMaker itself serialises them: only one CreateEndpoint or
  UpdateEndpoint wins; the other looks again and finds the endpoint heading to its version
  (unchanged) or to another (busy, raised for retry).
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, replace

from botocore.client import BaseClient
from botocore.exceptions import ClientError

from deploy_lambda import alarms, autoscaling, evidence, limits, resources
from deploy_lambda.settings import Settings
from model_registry import lineage, packages
from model_registry.contract import Recommendation
from model_registry.names import TAG_PACKAGE, resource_name

log = logging.getLogger("rtb_mlops.deploy")
BUSY = ("Creating", "Updating", "SystemUpdating", "RollingBack", "Deleting", "UpdateRollbackFailed")


class EndpointBusy(RuntimeError):
    """Raised for Lambda's retry: the endpoint is mid-change towards something else."""


class NotDeployable(RuntimeError):
    """The package cannot be deployed as it is; a person has to look (the DLQ keeps the event)."""


@dataclass(frozen=True)
class Outcome:
    action: str
    endpoint: str
    model_package_arn: str = ""
    version: int | None = None
    detail: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def note(level: int, message: str, **fields: object) -> None:
    """One JSON line per decision, so CloudWatch Logs Insights can query them."""
    log.log(level, json.dumps({"message": message, **fields}, default=str))


@dataclass
class Deployer:
    settings: Settings
    sm: BaseClient
    aas: BaseClient
    cw: BaseClient

    # --- reading the current state ---------------------------------------------------
    def _serving(self, endpoint: dict | None) -> tuple[str | None, int | None]:
        if endpoint is None:
            return None, None
        config = endpoint.get("EndpointConfigName")
        try:
            arn, _ = resources.serving_package(self.sm, config)
        except ClientError as exc:
            # Denied is not missing: the role reads only its own endpoint's configs, so this one
            # was made by someone else, and what it serves cannot be known here.
            if exc.response["Error"]["Code"] not in ("AccessDeniedException", "AccessDenied"):
                raise
            raise NotDeployable(
                f"endpoint {self.settings.endpoint_name} serves endpoint config {config}, which this function's role"
                f" may not read ({exc.response['Error']['Code']}); the deploy path makes only"
                f" {self.settings.endpoint_name}-* configs. Look at it before deploying over it."
            ) from None
        return arn, resources.version_of(arn)

    def _deployable(self, arn: str) -> tuple[packages.PackageVersion, Recommendation]:
        pkg = packages.describe(self.sm, arn)
        if pkg.group != self.settings.model_package_group:
            raise NotDeployable(f"{arn} is in group {pkg.group}, not {self.settings.model_package_group}")
        if pkg.approval_status != packages.APPROVED or pkg.status != "Completed":
            raise NotDeployable(
                f"{arn} is {pkg.approval_status}/{pkg.status}, not Approved/Completed; nothing deployed"
            )
        return pkg, self._trusted(pkg)

    def _trusted(self, pkg: packages.PackageVersion) -> Recommendation:
        """The package's recommendation, once it is within this function's limits and agrees with
        the evidence metadata edits cannot forge; `limits.Refused` names every key that is not."""
        rec = Recommendation.from_properties(pkg.arn, pkg.customer_metadata)
        limits.refuse(
            pkg.arn,
            limits.problems(rec, self.settings)
            + evidence.problems(self.sm, pkg.arn, pkg.customer_metadata, rec, frozenset(pkg.specifications)),
        )
        return limits.within_bounds(rec, self.settings.instance_bounds)

    # --- the three entry points ------------------------------------------------------
    def deploy(self, arn: str, rollback: bool = False) -> Outcome:
        try:
            return self._deploy(arn, rollback)
        except ClientError as exc:
            # Another delivery got there first (deploys are not serialised by reserved
            # concurrency, which a default-quota account cannot give): look again, once; the
            # endpoint is now heading to this version (unchanged) or to another (busy).
            if not resources.lost_race(exc):
                raise
            note(logging.INFO, "another invocation changed the endpoint first; looking again", package=arn)
            return self._deploy(arn, rollback)

    def _deploy(self, arn: str, rollback: bool) -> Outcome:
        pkg, rec = self._deployable(arn)
        name = resource_name(self.settings.endpoint_name, pkg.group, pkg.version)
        endpoint = resources.describe_endpoint(self.sm, self.settings.endpoint_name)
        if endpoint is not None and endpoint["EndpointStatus"] in BUSY:
            pending = (endpoint.get("PendingDeploymentSummary") or {}).get("EndpointConfigName")
            if name in (pending, endpoint.get("EndpointConfigName")):
                return self._outcome("unchanged", pkg, f"already {endpoint['EndpointStatus']} towards {name}")
            raise EndpointBusy(f"endpoint {self.settings.endpoint_name} is {endpoint['EndpointStatus']}; retry later")
        if endpoint is not None and endpoint["EndpointStatus"] == "Failed":
            raise NotDeployable(
                f"endpoint {self.settings.endpoint_name} is Failed ({endpoint.get('FailureReason', 'no reason')});"
                " delete it or fix it by hand before deploying"
            )
        serving_arn, serving = self._serving(endpoint)
        if serving is not None and serving == pkg.version:
            wrote = autoscaling.ensure(self.aas, self.settings, rec)
            return self._outcome("unchanged", pkg, "autoscaling corrected" if wrote else "already serving")
        if serving is not None and serving > pkg.version and not rollback:
            note(
                logging.WARNING,
                "older version approved; not replacing the newer one serving",
                serving=serving_arn,
                approved=arn,
            )
            return self._outcome("skipped", pkg, f"v{serving} serves, newer than v{pkg.version}")
        if endpoint is not None and serving is None:
            note(
                logging.WARNING,
                "endpoint serves a config the deploy path did not make",
                config=endpoint.get("EndpointConfigName"),
            )
        resources.ensure_model(self.sm, name, arn, rec, self.settings)
        resources.ensure_endpoint_config(self.sm, name, arn, rec, self.settings)
        alarm_names = alarms.ensure(self.cw, self.settings)
        if endpoint is None:
            endpoint_arn = self.sm.create_endpoint(
                EndpointName=self.settings.endpoint_name,
                EndpointConfigName=name,
                Tags=[{"Key": TAG_PACKAGE, "Value": arn}],
            )["EndpointArn"]
            self._record_lineage(arn, endpoint_arn)
            note(logging.INFO, "endpoint creating", endpoint=self.settings.endpoint_name, config=name, package=arn)
            return self._outcome(
                "created", pkg, f"creating with {rec.recommended_instance_type} x{rec.recommended_instance_count}"
            )
        self._prepare_autoscaling_for(endpoint, rec)
        self.sm.update_endpoint(
            EndpointName=self.settings.endpoint_name,
            EndpointConfigName=name,
            DeploymentConfig=self._deployment_config(alarm_names),
        )
        self._record_lineage(arn, endpoint["EndpointArn"])
        action = "rolled_back" if rollback else "updated"
        note(
            logging.INFO,
            f"endpoint {action}",
            endpoint=self.settings.endpoint_name,
            config=name,
            package=arn,
            previous=serving_arn,
        )
        return self._outcome(action, pkg, f"blue/green {self.settings.strategy} from v{serving} to v{pkg.version}")

    def on_rejected(self, arn: str, version: int) -> Outcome:
        endpoint = resources.describe_endpoint(self.sm, self.settings.endpoint_name)
        _, serving = self._serving(endpoint)
        base = Outcome("skipped", self.settings.endpoint_name, arn, version)
        if serving != version:
            return replace(base, detail=f"v{version} rejected; v{serving} serves, nothing to roll back")
        if not self.settings.rollback_on_reject:
            note(logging.WARNING, "serving version rejected; ROLLBACK_ON_REJECT is off", package=arn)
            return replace(base, detail="rollback on reject is off")
        for candidate in packages.list_versions(self.sm, self.settings.model_package_group, packages.APPROVED):
            if candidate.version != version:
                note(logging.WARNING, "serving version rejected; rolling back", rejected=arn, to=candidate.arn)
                return self.deploy(candidate.arn, rollback=True)
        note(
            logging.ERROR, "SERVING VERSION REJECTED AND NO APPROVED VERSION LEFT: endpoint left as it is", package=arn
        )
        return Outcome(
            "no_rollback_target", self.settings.endpoint_name, arn, version, "no approved version to roll back to"
        )

    def on_in_service(self) -> Outcome:
        """After a create or update completes: autoscaling as the serving version planned it."""
        endpoint = resources.describe_endpoint(self.sm, self.settings.endpoint_name)
        if endpoint is None or endpoint["EndpointStatus"] != "InService":
            status = endpoint["EndpointStatus"] if endpoint else "missing"
            return Outcome("skipped", self.settings.endpoint_name, detail=f"endpoint is {status}")
        arn, version = self._serving(endpoint)
        if arn is None:
            return Outcome("skipped", self.settings.endpoint_name, detail="endpoint config not made by the deploy path")
        # Its metadata may have been edited since it was deployed: held to the same line again.
        rec = self._trusted(packages.describe(self.sm, arn))
        wrote = autoscaling.ensure(self.aas, self.settings, rec)
        bounds = f"min {rec.min_instance_count}, max {rec.max_instance_count}"
        detail = f"{bounds}, target {rec.target_invocations_per_instance}/min"
        return Outcome("autoscaling" if wrote else "unchanged", self.settings.endpoint_name, arn, version, detail)

    # --- helpers ---------------------------------------------------------------------
    def _outcome(self, action: str, pkg: packages.PackageVersion, detail: str) -> Outcome:
        return Outcome(action, self.settings.endpoint_name, pkg.arn, pkg.version, detail)

    def _record_lineage(self, package_arn: str, endpoint_arn: str) -> None:
        def record() -> None:
            recorder = lineage.LineageRecorder(self.sm)
            name = lineage.endpoint_context_name(self.settings.endpoint_name)
            context = recorder.context(name, endpoint_arn, lineage.ENDPOINT)
            recorder.associate(recorder.package_artifact(package_arn), context)

        lineage.best_effort("deployment", record)

    def _prepare_autoscaling_for(self, endpoint: dict, rec: Recommendation) -> None:
        """AWS refuses an update that changes a scaled variant's instance type; deregister first."""
        _, config = resources.serving_package(self.sm, endpoint.get("EndpointConfigName"))
        current_type = ((config or {}).get("ProductionVariants") or [{}])[0].get("InstanceType")
        if current_type != rec.recommended_instance_type and autoscaling.remove(self.aas, self.settings):
            note(
                logging.INFO,
                "autoscaling deregistered for an instance type change",
                old=current_type,
                new=rec.recommended_instance_type,
            )

    def _deployment_config(self, alarm_names: list[str]) -> dict:
        s = self.settings
        routing: dict = {"Type": s.strategy.upper(), "WaitIntervalInSeconds": s.wait_interval_seconds}
        if s.strategy == "canary":
            routing["CanarySize"] = {"Type": "CAPACITY_PERCENT", "Value": s.canary_percent}
        elif s.strategy == "linear":
            routing["LinearStepSize"] = {"Type": "CAPACITY_PERCENT", "Value": s.linear_step_percent}
        return {
            "BlueGreenUpdatePolicy": {
                "TrafficRoutingConfiguration": routing,
                "TerminationWaitInSeconds": s.termination_wait_seconds,
            },
            "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": n} for n in alarm_names]},
        }
