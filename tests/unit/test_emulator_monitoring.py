"""The emulator's CloudWatch metrics and alarms, and target tracking's decisions."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from emulator.autoscaling.models import TargetTracking, last_datapoint, proposed
from emulator.clock import Clock
from emulator.cloudwatch.alarms import evaluate
from emulator.cloudwatch.models import Invocation, MetricStore, percentile

SCALE = 30.0


def _alarm(**kw):
    base = dict(
        comparison_operator="GreaterThanThreshold",
        threshold=100.0,
        evaluation_periods=3,
        datapoints_to_alarm=None,
        treat_missing_data=None,
    )
    return SimpleNamespace(**{**base, **kw})


def _store_with(times_and_status, instances=2) -> MetricStore:
    store = MetricStore(Clock(SCALE))
    for at, status in times_and_status:
        store.record(Invocation(at, "ep", "AllTraffic", 1500.0, 300.0, status, instances))
    return store


def test_sums_stand_for_a_full_period_at_the_measured_rate():
    # A 60 s period lasts 2 s at scale 30: 10 requests in it are 300 a minute, 150 per instance.
    store = _store_with([(1000.0 + i * 0.1, 200) for i in range(10)])
    dims = {"EndpointName": "ep", "VariantName": "AllTraffic"}
    [point] = store.series("Invocations", dims, "Sum", 60, 999.0, 1003.0)
    assert point.value == pytest.approx(300.0)
    [per_instance] = store.series("InvocationsPerInstance", dims, "Sum", 60, 999.0, 1003.0)
    assert per_instance.value == pytest.approx(150.0)
    [latency] = store.series("ModelLatency", dims, "p99", 60, 999.0, 1003.0)
    assert latency.value == 1500.0 and latency.unit == "Microseconds"


def test_errors_count_the_model_containers_status_classes():
    store = _store_with([(1000.0, 200), (1000.1, 503), (1000.2, 404)])
    dims = {"EndpointName": "ep"}
    assert store.series("Invocation5XXErrors", dims, "Sum", 60, 999.0, 1002.0)[0].value == SCALE
    assert store.series("Invocation4XXErrors", dims, "Sum", 60, 999.0, 1002.0)[0].value == SCALE


def test_last_periods_marks_missing_periods():
    store = _store_with([(1001.0, 200)])
    values = store.last_periods("Invocations", {"EndpointName": "ep"}, "Sum", 60, 3, now=1004.5)
    assert values == [None, SCALE, None]


def test_percentile_is_nearest_rank():
    assert percentile(list(range(1, 101)), 99) == 99
    assert percentile([5.0], 50) == 5.0


def test_alarm_needs_its_datapoints_to_alarm():
    assert evaluate(_alarm(), [150.0, 150.0, 150.0])[0] == "ALARM"
    assert evaluate(_alarm(), [150.0, 90.0, 150.0])[0] == "OK"
    assert evaluate(_alarm(datapoints_to_alarm=2), [150.0, 90.0, 150.0])[0] == "ALARM"


def test_missing_data_as_the_alarm_treats_it():
    assert evaluate(_alarm(), [None, None, None])[0] == "INSUFFICIENT_DATA"
    assert evaluate(_alarm(treat_missing_data="notBreaching"), [None, None, None])[0] == "OK"
    assert evaluate(_alarm(treat_missing_data="breaching"), [None, None, None])[0] == "ALARM"


def test_proposed_capacity_tracks_the_target_within_bounds():
    assert proposed(2, 3000.0, 1000.0, 1, 10) == 6
    assert proposed(6, 100.0, 1000.0, 2, 10) == 2
    assert proposed(2, 100000.0, 1000.0, 1, 10) == 10


class _Fleet:
    def __init__(self, count: int):
        self.count, self.changes = count, []

    def desired_count(self, endpoint, variant):
        return self.count

    def set_desired_count(self, endpoint, variant, count, cause):
        self.changes.append(count)
        self.count = count


def _tracking_alarm(kind: str, value: float):
    return SimpleNamespace(
        name=f"TargetTracking-endpoint/ep/variant/AllTraffic-{kind}-1",
        state_value="ALARM",
        state_reason_data=json.dumps({"recentDatapoints": [value]}),
    )


def test_scale_out_waits_for_its_cooldown_and_blocks_scale_in(monkeypatch):
    fleet = _Fleet(2)
    tracking = TargetTracking(Clock(SCALE), "123456789012", "us-east-1", fleet)
    policy = SimpleNamespace(
        service_namespace="sagemaker",
        resource_id="endpoint/ep/variant/AllTraffic",
        policy_arn="arn:policy",
        target_tracking_scaling_policy_configuration={
            "TargetValue": 1000.0,
            "ScaleOutCooldown": 60,
            "ScaleInCooldown": 300,
        },
    )
    monkeypatch.setattr(tracking, "_policy_of", lambda alarm: policy)
    monkeypatch.setattr(tracking, "_target", lambda rid: SimpleNamespace(min_capacity=1, max_capacity=10))
    tracking.on_alarm(_tracking_alarm("AlarmHigh", 2000.0), now=100.0)
    assert fleet.changes == [4]
    tracking.on_alarm(_tracking_alarm("AlarmHigh", 2000.0), now=101.0)  # 60 s cooldown = 2 s here
    assert fleet.changes == [4]
    tracking.on_alarm(_tracking_alarm("AlarmLow", 100.0), now=101.5)  # still within scale-out's cooldown
    assert fleet.changes == [4]
    tracking.on_alarm(_tracking_alarm("AlarmHigh", 2000.0), now=102.5)
    assert fleet.changes == [4, 8]
    tracking.on_alarm(_tracking_alarm("AlarmLow", 100.0), now=105.0)
    assert fleet.changes == [4, 8, 1]


def test_last_datapoint_skips_missing():
    alarm = SimpleNamespace(state_reason_data=json.dumps({"recentDatapoints": [5.0, None]}))
    assert last_datapoint(alarm) == 5.0


def test_a_fleet_modelled_one_to_n_counts_each_invocation_n_times():
    store = MetricStore(Clock(SCALE), traffic=500)
    store.record(Invocation(1000.0, "ep", "AllTraffic", 1500.0, 300.0, 500, 1))
    dims = {"EndpointName": "ep"}
    assert store.series("Invocations", dims, "Sum", 60, 999.0, 1001.0)[0].value == SCALE * 500
    assert store.series("Invocation5XXErrors", dims, "Sum", 60, 999.0, 1001.0)[0].value == SCALE * 500
    assert store.series("ModelLatency", dims, "p99", 60, 999.0, 1001.0)[0].value == 1500.0
