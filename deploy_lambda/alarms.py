"""The CloudWatch alarms blue/green updates roll back on: 5XX errors, the 4XX error rate, and
latency above the SLA.

A version that answers every request with a 4XX (a model expecting other features, a content
type it refuses) fails no 5XX or latency alarm; the 4XX rate alarm is AWS's own example for
auto-rollback ("Monitor invocation errors on both old and new fleets": Invocation4XXErrors,
Average, which is the share of requests answered 4XX since SageMaker sends 1 per 4XX, 0
otherwise):
https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails-configuration.html
Old and new fleets both count, so callers sending bad rows during an update roll it back too:
the safe side.

Written only when missing or different, so a repeated deploy makes no write.
"""

from __future__ import annotations

from typing import Any

from botocore.client import BaseClient

from deploy_lambda.settings import Settings
from model_registry.names import VARIANT, alarm_names

# Share of a minute's requests answered 4XX that rolls an update back, far above the stray bad
# request: a version answering only 4XX trips it once it takes 5 % of the traffic (a canary of
# 5 % or more, any linear step, and in every case the baking period at 100 %).
CLIENT_ERROR_RATE = 0.05


def desired(settings: Settings) -> list[dict[str, Any]]:
    errors, client_errors, latency = alarm_names(settings.endpoint_name)
    dims = [{"Name": "EndpointName", "Value": settings.endpoint_name}, {"Name": "VariantName", "Value": VARIANT}]
    common = {"Namespace": "AWS/SageMaker", "Dimensions": dims, "Period": 60, "TreatMissingData": "notBreaching"}
    return [
        {
            **common,
            "AlarmName": errors,
            "AlarmDescription": "Endpoint 5XX errors; blue/green updates roll back on it",
            "MetricName": "Invocation5XXErrors",
            "Statistic": "Sum",
            "Threshold": float(settings.error_alarm_threshold),
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "EvaluationPeriods": 1,
        },
        {
            **common,
            "AlarmName": client_errors,
            "AlarmDescription": "Share of requests answered 4XX; blue/green updates roll back on it",
            "MetricName": "Invocation4XXErrors",
            "Statistic": "Average",
            "Threshold": CLIENT_ERROR_RATE,
            "ComparisonOperator": "GreaterThanThreshold",
            "EvaluationPeriods": 1,
        },
        {
            **common,
            "AlarmName": latency,
            "AlarmDescription": f"p99 model latency above the {settings.max_latency_ms} ms SLA",
            "MetricName": "ModelLatency",
            "ExtendedStatistic": "p99",
            # CloudWatch reports SageMaker ModelLatency in microseconds.
            "Threshold": float(settings.max_latency_ms * 1000),
            "ComparisonOperator": "GreaterThanThreshold",
            "EvaluationPeriods": 3,
        },
    ]


def _differs(current: dict[str, Any], want: dict[str, Any]) -> bool:
    return any(current.get(k) != v for k, v in want.items() if k != "AlarmDescription")


def ensure(cw: BaseClient, settings: Settings) -> list[str]:
    """Alarm names; puts only the alarms that are missing or changed."""
    wanted = desired(settings)
    existing = {
        a["AlarmName"]: a for a in cw.describe_alarms(AlarmNames=[a["AlarmName"] for a in wanted])["MetricAlarms"]
    }
    for alarm in wanted:
        current = existing.get(alarm["AlarmName"])
        if current is None or _differs(current, alarm):
            cw.put_metric_alarm(**alarm)
    return [a["AlarmName"] for a in wanted]
