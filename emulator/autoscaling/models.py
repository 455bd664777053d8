"""Target tracking on `SageMakerVariantInvocationsPerInstance`, as Application Auto Scaling
runs it for a SageMaker variant.

The policy's high alarm (3 of 3 one-minute datapoints above the target) scales out to
ceil(current x metric / target); its low alarm (15 of 15 below 90% of the target) scales in
the same way. Each acts again while its alarm stays in ALARM, once its cooldown has passed;
scale-in also waits out a scale-out's cooldown. The new count is bounded by the scalable
target's MinCapacity/MaxCapacity, and a capacity outside them is brought inside at once.
Cooldowns pass on the compressed clock (`emulator.clock`).
"""

from __future__ import annotations

import json
import logging
import math
import threading
from dataclasses import dataclass, field
from typing import Any, Protocol

from moto.applicationautoscaling.models import applicationautoscaling_backends

from emulator.clock import Clock

log = logging.getLogger("rtb_mlops.emulator")
NAMESPACE = "sagemaker"
DIMENSION = "sagemaker:variant:DesiredInstanceCount"
METRIC_TYPE = "SageMakerVariantInvocationsPerInstance"
SCALE_IN_FRACTION = 0.9


class Fleet(Protocol):
    """What target tracking changes: a variant's desired instance count (the endpoints)."""

    def desired_count(self, endpoint: str, variant: str) -> int | None: ...

    def set_desired_count(self, endpoint: str, variant: str, count: int, cause: str) -> None: ...


@dataclass(frozen=True)
class Decision:
    desired: int
    cause: str


def proposed(current: int, metric: float, target: float, low: int, high: int) -> int:
    """Capacity that brings the metric back to the target, within the bounds."""
    return min(high, max(low, math.ceil(round(current * metric / target, 9))))


def resource(resource_id: str) -> tuple[str, str]:
    """(endpoint, variant) of `endpoint/NAME/variant/VARIANT`."""
    parts = resource_id.split("/")
    return parts[1], parts[3]


def last_datapoint(alarm: Any) -> float | None:
    values = json.loads(alarm.state_reason_data or "{}").get("recentDatapoints") or []
    present = [v for v in values if v is not None]
    return present[-1] if present else None


@dataclass
class _Cooldowns:
    scale_out_until: float = 0.0
    scale_in_until: float = 0.0


@dataclass
class TargetTracking:
    clock: Clock
    account: str
    region: str
    fleet: Fleet
    _cooldowns: dict[str, _Cooldowns] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _backend(self):
        return applicationautoscaling_backends[self.account][self.region]

    def _policy_of(self, alarm: Any) -> Any | None:
        for policy in list(self._backend().policies.values()):
            if any(a.name == alarm.name for a in policy.alarms):
                return policy
        return None

    def _target(self, resource_id: str) -> Any | None:
        return self._backend().targets.get(DIMENSION, {}).get(resource_id)

    def on_alarm(self, alarm: Any, now: float) -> None:
        """Called on each evaluation of every alarm; acts on its policy's alarms in ALARM."""
        if not alarm.name.startswith("TargetTracking-endpoint/") or alarm.state_value != "ALARM":
            return
        policy = self._policy_of(alarm)
        if policy is None or policy.service_namespace != NAMESPACE:
            return
        target = self._target(policy.resource_id)
        if target is None:
            return
        endpoint, variant = resource(policy.resource_id)
        current = self.fleet.desired_count(endpoint, variant)
        metric = last_datapoint(alarm)
        if current is None or metric is None:
            return
        with self._lock:
            decision = self._decide(alarm, policy, target, current, metric, now)
        if decision is not None:
            self.fleet.set_desired_count(endpoint, variant, decision.desired, decision.cause)

    def _decide(self, alarm: Any, policy: Any, target: Any, current: int, metric: float, now: float) -> Decision | None:
        config = policy.target_tracking_scaling_policy_configuration
        goal = float(config["TargetValue"])
        cool = self._cooldowns.setdefault(policy.policy_arn, _Cooldowns())
        desired = proposed(current, metric, goal, int(target.min_capacity), int(target.max_capacity))
        high = "-AlarmHigh-" in alarm.name
        if high and desired > current and now >= cool.scale_out_until:
            cool.scale_out_until = now + self.clock.real(float(config.get("ScaleOutCooldown", 300)))
            return Decision(desired, f"{alarm.name} in ALARM: {metric:g} per instance > target {goal:g}")
        if not high and desired < current and now >= max(cool.scale_in_until, cool.scale_out_until):
            cool.scale_in_until = now + self.clock.real(float(config.get("ScaleInCooldown", 300)))
            below = f"{metric:g} per instance < {SCALE_IN_FRACTION:g} x {goal:g}"
            return Decision(desired, f"{alarm.name} in ALARM: {below}")
        return None

    def enforce_bounds(self) -> None:
        """A registered target's capacity outside its Min/MaxCapacity is brought inside at once."""
        for resource_id, target in list(self._backend().targets.get(DIMENSION, {}).items()):
            endpoint, variant = resource(resource_id)
            current = self.fleet.desired_count(endpoint, variant)
            if current is None:
                continue
            bounded = min(int(target.max_capacity), max(int(target.min_capacity), current))
            if bounded != current:
                self.fleet.set_desired_count(endpoint, variant, bounded, "outside the scalable target's bounds")
