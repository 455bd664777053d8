"""Alarms on endpoint metrics, evaluated once per (compressed) period as CloudWatch does:
the last EvaluationPeriods periods, DatapointsToAlarm of them breaching, TreatMissingData
for periods without data. moto holds the alarms; a state change is written to the alarm
(DescribeAlarms and its history show it) and told to the listeners (Application Auto
Scaling's policies, blue/green rollback)."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from moto.cloudwatch.models import cloudwatch_backends

from emulator.clock import Clock
from emulator.cloudwatch.models import PeriodStore

log = logging.getLogger("rtb_mlops.emulator")
Listener = Callable[[Any], None]

_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanThreshold": lambda v, t: v > t,
    "GreaterThanOrEqualToThreshold": lambda v, t: v >= t,
    "LessThanThreshold": lambda v, t: v < t,
    "LessThanOrEqualToThreshold": lambda v, t: v <= t,
}


def evaluate(alarm: Any, values: list[float | None]) -> tuple[str, str]:
    """(state, reason) for the alarm over its last periods' values (None: no data)."""
    compare = _COMPARE[alarm.comparison_operator]
    treat = alarm.treat_missing_data or "missing"
    needed = int(alarm.datapoints_to_alarm or alarm.evaluation_periods)
    present = [v for v in values if v is not None]
    breaching = sum(compare(v, alarm.threshold) for v in present)
    if treat == "breaching":
        breaching += len(values) - len(present)
    shown = ", ".join("missing" if v is None else f"{v:g}" for v in values)
    detail = f"[{shown}] ({breaching} of {len(values)} breaching, {needed} needed)"
    if breaching >= needed:
        return "ALARM", f"Threshold Crossed: {detail} {alarm.comparison_operator} {alarm.threshold:g}"
    if not present and treat in ("missing", "ignore"):
        return "INSUFFICIENT_DATA", f"Insufficient Data: {detail}"
    return "OK", f"Threshold Crossed: {detail} not {alarm.comparison_operator} {alarm.threshold:g}"


class AlarmEvaluator:
    def __init__(self, stores: Mapping[str, PeriodStore], clock: Clock, account: str, region: str):
        self.stores, self.clock = stores, clock  # namespace -> its metrics
        self.account, self.region = account, region
        self.listeners: list[Listener] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="cloudwatch-alarms")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def subscribe(self, listener: Listener) -> None:
        self.listeners.append(listener)

    def _alarms(self) -> list[Any]:
        backend = cloudwatch_backends[self.account][self.region]
        return [a for a in list(backend.alarms.values()) if a.namespace in self.stores and a.metric_name]

    def _run(self) -> None:
        while not self._stop.wait(self.clock.real(60) / 2):
            for alarm in self._alarms():
                try:
                    self.evaluate_one(alarm, time.time())
                except Exception:  # one broken alarm must not stop the others
                    log.exception("alarm %s: evaluation failed", alarm.name)

    def evaluate_one(self, alarm: Any, now: float) -> None:
        stat = alarm.extended_statistic or alarm.statistic
        dims = {d.name: d.value for d in alarm.dimensions}
        values = self.stores[alarm.namespace].last_periods(
            alarm.metric_name, dims, stat, int(alarm.period), int(alarm.evaluation_periods), now
        )
        state, reason = evaluate(alarm, values)
        if state != alarm.state_value:
            data = {"version": "1.0", "statistic": stat, "period": alarm.period, "recentDatapoints": values}
            alarm.update_state(reason, json.dumps(data), state)
            log.info("alarm %s: %s (%s)", alarm.name, state, reason)
        # Listeners hear every evaluation: target tracking acts on an alarm that stays in ALARM.
        for listener in self.listeners:
            listener(alarm)
