"""Blue/green updates with traffic shifting and auto-rollback, as SageMaker runs them.

With a `DeploymentConfig`, UpdateEndpoint brings up the new (green) fleet beside the old
(blue), shifts the canary's (or a linear step's) share of traffic to it for the wait interval,
then all of it, and bakes for TerminationWaitInSeconds before blue goes. If an alarm of
`AutoRollbackConfiguration` is in ALARM at any point in that window, traffic goes back to blue,
green is torn down and the endpoint, `RollingBack` meanwhile, is InService on its previous
config again. Waits pass on the compressed clock.
https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails-blue-green.html
https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails-configuration.html
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from moto.cloudwatch.models import cloudwatch_backends

from emulator.clock import Clock

_POLL_SECONDS = 0.2


@dataclass(frozen=True)
class Rollout:
    first_share: float  # of traffic on green during the wait interval (1.0: all at once)
    wait_seconds: float  # AWS seconds with first_share on green
    baking_seconds: float  # AWS seconds with all traffic on green, blue still up
    alarms: tuple[str, ...]

    @classmethod
    def from_request(cls, config: dict[str, Any] | None) -> Rollout | None:
        """The rollout a DeploymentConfig asks for; None without one (replace at once)."""
        policy = (config or {}).get("BlueGreenUpdatePolicy")
        if not policy:
            return None
        routing = policy.get("TrafficRoutingConfiguration", {})
        kind = routing.get("Type", "ALL_AT_ONCE")
        wait = float(routing.get("WaitIntervalInSeconds", 0))
        size = routing.get("CanarySize") or routing.get("LinearStepSize") or {}
        share = 1.0
        if kind in ("CANARY", "LINEAR") and size.get("Type") == "CAPACITY_PERCENT":
            share = float(size["Value"]) / 100
        if kind == "LINEAR":
            # Every step waits the interval: the whole shift takes this many of them.
            wait *= max(1, round(1 / share))
        alarms = tuple(a["AlarmName"] for a in (config or {}).get("AutoRollbackConfiguration", {}).get("Alarms", []))
        return cls(
            share, wait if kind != "ALL_AT_ONCE" else 0.0, float(policy.get("TerminationWaitInSeconds", 0)), alarms
        )


def alarm_firing(names: tuple[str, ...], account: str, region: str) -> str | None:
    """The first of the named alarms in ALARM, or None."""
    alarms = cloudwatch_backends[account][region].alarms
    return next((n for n in names if n in alarms and alarms[n].state_value == "ALARM"), None)


def watch(rollout: Rollout, aws_seconds: float, clock: Clock, account: str, region: str) -> str | None:
    """Waits `aws_seconds` on the clock; the alarm that fired meanwhile, or None."""
    done = threading.Event()
    timer = threading.Timer(clock.real(aws_seconds), done.set)
    timer.daemon = True
    timer.start()
    try:
        while True:
            fired = alarm_firing(rollout.alarms, account, region)
            if fired or done.wait(_POLL_SECONDS):
                return fired
    finally:
        timer.cancel()
