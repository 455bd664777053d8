"""The emulator recommender's projection carries a measurement to other instance types as documented."""

import math

import pytest

from emulator import prices
from emulator.recommender.measurement import EFFICIENCY, Measurement, project


def test_a_projection_scales_the_measured_worker_by_vcpus_and_prices_it():
    level = {"connections": 4, "rps": 1000.0, "P99": 2.2, "errors": 0}
    m = Measurement({}, [level], level, "P99", "asyncio")
    p = project(m, "ml.c5.xlarge")
    assert p.max_invocations == int(1000 * 4 * EFFICIENCY * 60)
    assert p.model_latency == 3
    assert p.cost_per_hour == prices.hourly_usd("ml.c5.xlarge")
    assert math.isclose(p.cost_per_inference, p.cost_per_hour / (p.max_invocations * 60))
    assert m.endpoint_metrics() == {"MaxInvocations": 60_000, "ModelLatency": 3}
    with pytest.raises(prices.UnknownInstanceType):
        project(m, "ml.c5.huge")


def test_a_custom_load_test_takes_p95_thresholds_only():
    import pytest

    from emulator.protocol import ApiError
    from emulator.recommender.jobs import Recommender

    request = {
        "JobName": "j",
        "InputConfig": {"TrafficPattern": {"TrafficType": "PHASES", "Phases": []}},
        "StoppingConditions": {"ModelLatencyThresholds": [{"Percentile": "P99", "ValueInMilliseconds": 20}]},
    }
    with pytest.raises(ApiError, match="percentile' failed to satisfy constraint: custom load tests"):
        Recommender(None).create(request)
