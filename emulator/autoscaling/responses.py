"""The CloudWatch alarms a target-tracking policy on a SageMaker variant creates.

Application Auto Scaling creates and owns them (`TargetTracking-<resource>-AlarmHigh-<id>`
and `-AlarmLow-<id>`, "DO NOT EDIT OR DELETE"), replaces them with the policy and deletes
them with it; moto does this only for DynamoDB and ECS, so its policy model is extended here.
https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-target-tracking.html
"""

from __future__ import annotations

from typing import Any

from moto.applicationautoscaling.models import FakeApplicationAutoscalingPolicy
from moto.cloudwatch.models import cloudwatch_backends
from moto.moto_api._internal import mock_random

from emulator.autoscaling.models import METRIC_TYPE, NAMESPACE, SCALE_IN_FRACTION, resource
from emulator.cloudwatch.models import NAMESPACE as CW_NAMESPACE

_original = FakeApplicationAutoscalingPolicy.create_alarms
# Datapoints (one a minute) each alarm needs, as AWS creates them.
HIGH_PERIODS, LOW_PERIODS = 3, 15


def _sagemaker_alarms(policy: FakeApplicationAutoscalingPolicy) -> list[Any]:
    config = policy.target_tracking_scaling_policy_configuration or {}
    kind = config.get("PredefinedMetricSpecification", {}).get("PredefinedMetricType")
    if kind != METRIC_TYPE:
        return []  # custom metrics are not emulated
    cloudwatch = cloudwatch_backends[policy.account_id][policy.region_name]
    prefix = f"TargetTracking-{policy.resource_id}-"
    # A replaced policy's alarms go with it.
    cloudwatch.delete_alarms([name for name in list(cloudwatch.alarms) if name.startswith(prefix)])
    endpoint, variant = resource(policy.resource_id)
    action = f"{policy.policy_arn}:createdBy/{mock_random.uuid4()}"
    target = float(config["TargetValue"])
    alarms = []
    for kind_name, operator, threshold, periods in (
        ("AlarmHigh", "GreaterThanThreshold", target, HIGH_PERIODS),
        ("AlarmLow", "LessThanThreshold", target * SCALE_IN_FRACTION, LOW_PERIODS),
    ):
        alarms.append(
            cloudwatch.put_metric_alarm(
                name=f"{prefix}{kind_name}-{mock_random.uuid4()}",
                namespace=CW_NAMESPACE,
                metric_name="InvocationsPerInstance",
                metric_data_queries=[],
                comparison_operator=operator,
                evaluation_periods=periods,
                datapoints_to_alarm=periods,
                period=60,
                threshold=threshold,
                unit=None,
                statistic="Sum",
                description=f"DO NOT EDIT OR DELETE. For TargetTrackingScaling policy {action}",
                dimensions=[{"Name": "EndpointName", "Value": endpoint}, {"Name": "VariantName", "Value": variant}],
                alarm_actions=[action],
            )
        )
    return alarms


def create_alarms(self: FakeApplicationAutoscalingPolicy) -> None:
    _original(self)
    if self.policy_type == "TargetTrackingScaling" and self.service_namespace == NAMESPACE:
        self.alarms.extend(_sagemaker_alarms(self))


def install() -> None:
    FakeApplicationAutoscalingPolicy.create_alarms = create_alarms
