"""`rtb-mlops loadtest`'s pure parts: profiles, per-second client results, timeline, verdict."""

from __future__ import annotations

import pytest

from pipelines.loadtest import profile, timeline
from pipelines.loadtest.client_seconds import Second, Seconds
from pipelines.loadtest.observe import InstanceSample
from pipelines.loadtest.timeline import Point
from pipelines.loadtest.verdict import Criteria, Outcome, judge

CRITERIA = Criteria(sla_ms=20, grace_seconds=5, max_error_rate=0.01)


def test_step_profile_steps_from_one_instances_target_to_the_peak_and_back():
    p = profile.build("step", 100, 700, 150, max_rps=1000)
    assert [ph.rps for ph in p.phases] == [100, 700, 100]
    assert p.seconds == pytest.approx(150)
    assert p.step_starts() == pytest.approx(45)
    assert p.rate_at(50) == 700 and p.rate_at(151) is None


def test_profile_above_the_local_bound_is_scaled_whole():
    p = profile.build("spike", 100, 1000, 100, max_rps=250)
    assert p.scaled_by == 0.25
    assert [ph.rps for ph in p.phases] == [25, 250, 25]


def test_ramp_goes_up_and_down():
    rates = [ph.rps for ph in profile.build("ramp", 10, 50, 90, max_rps=100).phases]
    assert rates == [10, 20, 30, 40, 50, 40, 30, 20, 10]


@pytest.mark.parametrize(
    ("name", "base", "peak", "seconds", "flag"),
    [("soak", 1, 2, 60, "--profile"), ("step", 1, 2, 5, "--duration"), ("step", 3, 2, 60, "rates")],
)
def test_bad_profiles_name_the_flag(name, base, peak, seconds, flag):
    with pytest.raises(profile.ProfileError, match=flag):
        profile.build(name, base, peak, seconds, max_rps=100)


def test_profile_round_trips_as_json():
    p = profile.build("step", 1, 2, 60, max_rps=100)
    assert profile.Profile.from_json(p.to_json()) == p


def test_client_seconds_merge_across_workers():
    master, worker = Seconds(), Seconds()
    for ms in range(1, 101):
        worker.add(1000.2, ms, failed=ms == 100)
    master.merge(worker.drain())
    second = master.by_second[1000]
    assert (second.requests, second.failures) == (100, 1)
    assert second.percentile(99) == 99 and second.percentile(50) == 50
    assert worker.by_second == {}


def _point(t: float, model_ms: float | None) -> Point:
    return Point(t, 100.0, 5.0, 9.0, model_ms, 0, 2, 2)


def test_too_high_target_fails_the_verdict_with_the_reason():
    # A target above what an instance holds: the load never crosses it, so the fleet does not
    # scale out, while the instances it has are overloaded past the SLA.
    points = [_point(t, 8.0 if t < 10 else 45.0) for t in range(30)]
    outcome = Outcome(points, requests=3000, errors=0, scale_out_expected=False, scale_out_seconds=None)
    verdict = judge(outcome, CRITERIA)
    assert not verdict.passed
    [latency] = [r for r in verdict.reasons if r.startswith("FAIL")]
    assert "above the 20 ms SLA for 20 s" in latency and "worst 45.0 ms" in latency
    assert "per-instance target above what an instance holds" in latency


def test_short_breach_within_grace_and_a_timely_scale_out_pass():
    points = [_point(t, 30.0 if 10 <= t < 14 else 5.0) for t in range(30)]
    outcome = Outcome(points, requests=3000, errors=3, scale_out_expected=True, scale_out_seconds=12.0)
    verdict = judge(outcome, CRITERIA)
    assert verdict.passed, verdict.reasons
    assert verdict.reasons[-1] == "PASS scaling: new capacity serving 12 s after the load step"


def test_errors_above_the_threshold_and_no_scale_out_fail():
    points = [_point(t, 5.0) for t in range(10)]
    outcome = Outcome(points, requests=1000, errors=50, scale_out_expected=True, scale_out_seconds=None)
    verdict = judge(outcome, CRITERIA)
    assert not verdict.passed
    assert [r.split(":")[0] for r in verdict.reasons] == ["PASS latency", "FAIL errors", "FAIL scaling"]


def test_scale_events_and_scale_out_time_from_samples():
    samples = [InstanceSample(100.0 + t, "InService", c, c) for t, c in [(0, 2), (10, 2), (20, 4), (30, 4), (40, 2)]]
    events = timeline.scale_events(100.0, samples)
    assert [e.as_json() for e in events] == [
        {"t_seconds": 20.0, "from": 2, "to": 4},
        {"t_seconds": 40.0, "from": 4, "to": 2},
    ]
    assert timeline.scale_out_seconds(100.0, 5.0, samples) == 15.0
    assert timeline.scale_out_seconds(100.0, 35.0, samples) is None


def test_the_timeline_carries_cloudwatchs_latency_cpu_and_memory_per_second():
    client = {100 + i: Second() for i in range(4)}
    for second in client.values():
        second.add(4.0, False)
    series = {"model_p99": {100.0: 3000.0}, "cpu": {100.0: 150.04, 102.0: 60.0}, "memory": {100.0: 12.34}}
    samples = [InstanceSample(100.0, "InService", 1, 1)]
    points = timeline.build(100.0, client, series, samples)
    assert [p.cpu_utilization for p in points] == [150.0, 150.0, 60.0, 60.0]
    assert [p.memory_utilization for p in points] == [12.3] * 4
    assert points[0].model_latency_p99_ms == 3.0
    # Without the instance metrics (a report of an older emulator), the points say so.
    assert timeline.build(100.0, client, {}, samples)[0].cpu_utilization is None
