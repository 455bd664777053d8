"""Selection, capacity plan and gate checks, from saved DescribeInferenceRecommendationsJob responses."""

import copy

import pytest

from model_registry.instance_types import realtime_instance_types
from steps.decision import DecisionInputs, decide, within_quota
from steps.results import document
from tests.conftest import load_fixture

TYPES = realtime_instance_types()


def inputs(**kw) -> DecisionInputs:
    base = dict(max_latency_ms=20, peak_rps=50_000, safety_factor=0.7, min_instances=2, max_instances=120)
    return DecisionInputs(**{**base, **kw})


def test_lowest_cost_within_sla_is_chosen_and_planned():
    d = decide(load_fixture("ir_job_default.json"), inputs(), TYPES)
    assert d.passed, d.reason
    assert d.choice.instance_type == "ml.c6i.large"
    assert d.choice.environment == {"OMP_NUM_THREADS": "2"}
    # ceil(50000 * 60 / (46800 * 0.7)) = ceil(91.57)
    assert d.plan.instance_count == 92
    assert d.plan.target_invocations_per_instance == 32760  # floor(46800 * 0.7), not 32759.999...
    assert d.plan.fleet_cost_per_hour == pytest.approx(92 * 0.119)


def test_min_instances_floor_applies_at_low_peak():
    d = decide(load_fixture("ir_job_default.json"), inputs(peak_rps=10, min_instances=3), TYPES)
    assert d.plan.instance_count == 3


def test_tie_on_cost_goes_to_higher_max_invocations():
    job = load_fixture("ir_job_default.json")
    recs = job["InferenceRecommendations"]
    twin = copy.deepcopy(recs[2])
    twin["RecommendationId"] += "-twin"
    twin["Metrics"]["MaxInvocations"] += 1000
    recs.append(twin)
    for r in (recs[2], twin):
        r["Metrics"]["CostPerInference"] = 4.0e-8
    d = decide(job, inputs(), TYPES)
    assert d.choice.recommendation_id.endswith("-twin")


def test_advanced_job_picks_environment_too():
    d = decide(load_fixture("ir_job_advanced.json"), inputs(), TYPES)
    assert (d.choice.instance_type, d.choice.environment) == ("ml.c6i.large", {"OMP_NUM_THREADS": "2"})


def test_nan_utilisation_is_noted_not_fatal():
    d = decide(load_fixture("ir_job_default.json"), inputs(max_latency_ms=30), TYPES)
    t2 = next(c for c in d.candidates if c.instance_type == "ml.t2.medium")
    assert t2.valid and t2.cpu_utilization is None
    assert "CpuUtilization is not a finite number" in t2.notes


def test_latency_above_sla_everywhere_fails_with_the_best_miss():
    d = decide(load_fixture("ir_job_default.json"), inputs(max_latency_ms=1), TYPES)
    assert not d.passed and d.choice is None
    assert "no recommendation meets the 1 ms latency SLA (best: ml.c5.large at 2 ms)" in d.reason
    assert d.summary()["decision"] == "failed"


def test_no_recommendations():
    job = load_fixture("ir_job_default.json")
    job["InferenceRecommendations"] = []
    d = decide(job, inputs(), TYPES)
    assert not d.passed and d.reason == "the job returned no recommendations"


def test_missing_metrics_and_unknown_instance_are_excluded_with_reasons():
    job = load_fixture("ir_job_default.json")
    recs = job["InferenceRecommendations"]
    del recs[2]["Metrics"]["CostPerInference"]
    recs[0]["EndpointConfiguration"]["InstanceType"] = "ml.z9.mega"
    d = decide(job, inputs(), TYPES)
    reasons = {c.recommendation_id[-1]: c.excluded_reason for c in d.candidates}
    assert "CostPerInference missing" in reasons["3"]
    assert "'ml.z9.mega' is not a SageMaker real-time instance type" in reasons["1"]
    assert d.choice.instance_type == "ml.c5.xlarge"


def test_a_recommendation_setting_a_variable_the_lambda_refuses_is_excluded():
    job = load_fixture("ir_job_default.json")
    recs = job["InferenceRecommendations"]
    env = [{"Key": "SAGEMAKER_PROGRAM", "ValueType": "String", "Value": "evil.py"}]
    for r in recs:
        r.setdefault("ModelConfiguration", {})["EnvironmentParameters"] = env
    recs[1]["ModelConfiguration"]["EnvironmentParameters"] = [
        {"Key": "OMP_NUM_THREADS", "ValueType": "String", "Value": "2"}
    ]
    d = decide(job, inputs(), TYPES)
    excluded = [c for c in d.candidates if not c.valid]
    assert len(excluded) == len(recs) - 1
    assert all(
        "environment: SAGEMAKER_PROGRAM is not a variable the recommender may set" in c.excluded_reason
        for c in excluded
    )
    assert d.choice.recommendation_id == recs[1]["RecommendationId"]


def test_every_recommendation_unusable():
    job = load_fixture("ir_job_default.json")
    for r in job["InferenceRecommendations"]:
        r["Metrics"]["ModelLatency"] = float("nan")
    d = decide(job, inputs(), TYPES)
    assert not d.passed and "none of the 5 recommendations is usable: ModelLatency" in d.reason


@pytest.mark.parametrize(
    ("field", "ceiling", "fragment"),
    [
        ("max_cost_per_inference", 1e-9, "cost per inference"),
        ("max_fleet_cost_per_hour", 5.0, "fleet cost at peak 10.95 USD per hour above the ceiling of 5.00"),
        ("max_instances", 50, "peak load needs 92 instances, more than the maximum of 50"),
    ],
)
def test_each_ceiling_fails_the_gate(field, ceiling, fragment):
    d = decide(load_fixture("ir_job_default.json"), inputs(**{field: ceiling}), TYPES)
    assert not d.passed and fragment in d.reason


@pytest.mark.parametrize(
    ("kw", "fragment"),
    [
        ({"safety_factor": 0}, "safety_factor must be in (0, 1]"),
        ({"safety_factor": 1.2}, "safety_factor must be in (0, 1]"),
        ({"peak_rps": 0}, "peak_rps must be > 0"),
        ({"peak_rps": -10}, "peak_rps must be > 0"),
        ({"safety_factor": float("nan")}, "safety_factor"),
        ({"min_instances": 5, "max_instances": 2}, "max_instances must be >= min_instances"),
    ],
)
def test_bad_inputs_are_usage_errors(kw, fragment):
    with pytest.raises(ValueError, match=fragment.replace("(", r"\(").replace("]", r"\]")):
        inputs(**kw)


def test_results_document_has_every_gate_path_in_every_outcome():
    job = load_fixture("ir_job_default.json")
    for d in (decide(job, inputs(), TYPES), decide(job, inputs(max_latency_ms=1), TYPES)):
        doc = document(d, job)
        for path in ("candidates.within_sla", "choice.model_latency_ms", "choice.cost_per_inference",
                     "plan.fleet_cost_per_hour", "plan.instance_count", "gate.failure_reason"):  # fmt: skip
            node = doc
            for key in path.split("."):
                node = node[key]
            assert node is not None
    assert doc["gate"]["passed"] is False and doc["candidates"]["within_sla"] == 0


def test_results_are_strict_json():
    import json

    job = load_fixture("ir_job_default.json")
    doc = document(decide(job, DecisionInputs(max_latency_ms=20, peak_rps=100, safety_factor=0.5), TYPES), job)
    json.dumps(doc, allow_nan=False)


def test_a_plan_above_the_quota_counts_as_a_failed_check_for_the_pipelines_gate():
    job = load_fixture("ir_job_default.json")
    decision = decide(job, DecisionInputs(20, 50000, 0.7, 2, 120), realtime_instance_types())
    assert document(decision, job)["gate"]["failed_checks"] == 0
    held = within_quota(decision, "ml.c6i.large for endpoint usage", 20)
    assert document(held, job)["gate"]["failed_checks"] == 1 and not held.passed
