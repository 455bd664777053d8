"""The deploy Lambda's rollback alarms, evaluated as the emulator's CloudWatch evaluates them
on invocation records: a new version that answers only 4XX must trip one of them."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from deploy_lambda.alarms import desired
from deploy_lambda.settings import Settings
from emulator.clock import Clock
from emulator.cloudwatch.alarms import evaluate
from emulator.cloudwatch.models import Invocation, MetricStore

ENDPOINT = "rtb-bid-filter"
SETTINGS = Settings(
    endpoint_name=ENDPOINT,
    model_package_group="rtb-bid-filter",
    execution_role_arn="arn:aws:iam::123456789012:role/sagemaker-execution",
    instance_types=("ml.c6i.large",),
)


def _states(new_version_share: float, new_version_status: int) -> dict[str, str]:
    """Each rollback alarm's state after one minute (2 s at x30) of 100 requests, the new
    version taking `new_version_share` of them and answering `new_version_status`."""
    store = MetricStore(Clock(30.0))
    for i in range(100):
        status = new_version_status if i < new_version_share * 100 else 200
        store.record(Invocation(1000.0 + i * 0.01, ENDPOINT, "AllTraffic", 900.0, 100.0, status, 2))
    states = {}
    for spec in desired(SETTINGS):
        dims = {d["Name"]: d["Value"] for d in spec["Dimensions"]}
        stat = spec.get("ExtendedStatistic") or spec["Statistic"]
        values = store.last_periods(spec["MetricName"], dims, stat, spec["Period"], spec["EvaluationPeriods"], 1003.9)
        alarm = SimpleNamespace(
            comparison_operator=spec["ComparisonOperator"],
            threshold=spec["Threshold"],
            evaluation_periods=spec["EvaluationPeriods"],
            datapoints_to_alarm=spec.get("DatapointsToAlarm"),
            treat_missing_data=spec["TreatMissingData"],
        )
        states[spec["AlarmName"]] = evaluate(alarm, values)[0]
    return states


@pytest.mark.parametrize("share", [0.25, 1.0])  # a linear step; the baking period
def test_a_version_answering_only_4xx_trips_a_rollback_alarm(share):
    states = _states(share, 400)
    assert states[f"{ENDPOINT}-4xx-error-rate"] == "ALARM"
    assert states[f"{ENDPOINT}-5xx-errors"] == "OK" and states[f"{ENDPOINT}-model-latency"] == "OK"


def test_stray_bad_requests_roll_nothing_back():
    assert set(_states(0.02, 400).values()) == {"OK"}


def test_a_version_answering_5xx_still_trips_the_error_alarm():
    assert _states(0.25, 500)[f"{ENDPOINT}-5xx-errors"] == "ALARM"
