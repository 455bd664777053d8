"""Target-tracking autoscaling on SageMakerVariantInvocationsPerInstance, from the plan."""

from __future__ import annotations

from botocore.client import BaseClient

from deploy_lambda.settings import Settings
from model_registry.contract import Recommendation
from model_registry.names import VARIANT, scaling_policy_name, scaling_resource_id

NAMESPACE = "sagemaker"
DIMENSION = "sagemaker:variant:DesiredInstanceCount"
METRIC = "SageMakerVariantInvocationsPerInstance"


def _target(aas: BaseClient, resource_id: str) -> dict | None:
    found = aas.describe_scalable_targets(
        ServiceNamespace=NAMESPACE, ResourceIds=[resource_id], ScalableDimension=DIMENSION
    )["ScalableTargets"]
    return found[0] if found else None


def _policy_config(rec: Recommendation, settings: Settings) -> dict:
    return {
        "TargetValue": float(rec.target_invocations_per_instance),
        "PredefinedMetricSpecification": {"PredefinedMetricType": METRIC},
        "ScaleInCooldown": settings.scale_in_cooldown_seconds,
        "ScaleOutCooldown": settings.scale_out_cooldown_seconds,
    }


def ensure(aas: BaseClient, settings: Settings, rec: Recommendation) -> bool:
    """Register the variant and its policy as planned; True when anything was written."""
    resource_id = scaling_resource_id(settings.endpoint_name, VARIANT)
    wrote = False
    target = _target(aas, resource_id)
    bounds = (rec.min_instance_count, rec.max_instance_count)
    if target is None or (target["MinCapacity"], target["MaxCapacity"]) != bounds:
        aas.register_scalable_target(
            ServiceNamespace=NAMESPACE,
            ResourceId=resource_id,
            ScalableDimension=DIMENSION,
            MinCapacity=bounds[0],
            MaxCapacity=bounds[1],
        )
        wrote = True
    name = scaling_policy_name(settings.endpoint_name)
    want = _policy_config(rec, settings)
    policies = aas.describe_scaling_policies(
        ServiceNamespace=NAMESPACE, ResourceId=resource_id, ScalableDimension=DIMENSION, PolicyNames=[name]
    )["ScalingPolicies"]
    current = policies[0].get("TargetTrackingScalingPolicyConfiguration") if policies else None
    if current is None or any(current.get(k) != v for k, v in want.items()):
        aas.put_scaling_policy(
            PolicyName=name,
            ServiceNamespace=NAMESPACE,
            ResourceId=resource_id,
            ScalableDimension=DIMENSION,
            PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration=want,
        )
        wrote = True
    return wrote


def remove(aas: BaseClient, settings: Settings) -> bool:
    """Before an update that changes the instance type, which AWS refuses while registered."""
    resource_id = scaling_resource_id(settings.endpoint_name, VARIANT)
    if _target(aas, resource_id) is None:
        return False
    policies = aas.describe_scaling_policies(
        ServiceNamespace=NAMESPACE, ResourceId=resource_id, ScalableDimension=DIMENSION
    )["ScalingPolicies"]
    for policy in policies:
        aas.delete_scaling_policy(
            PolicyName=policy["PolicyName"],
            ServiceNamespace=NAMESPACE,
            ResourceId=resource_id,
            ScalableDimension=DIMENSION,
        )
    aas.deregister_scalable_target(ServiceNamespace=NAMESPACE, ResourceId=resource_id, ScalableDimension=DIMENSION)
    return True
