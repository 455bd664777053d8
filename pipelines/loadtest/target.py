"""What a load test is run against: the endpoint, the package it serves, that package's plan,
the autoscaling actually registered for it, and the registered sample payload's rows."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from botocore.client import BaseClient

from model_registry import packages
from model_registry.artifact.payload import read_sample_payload
from model_registry.contract import Recommendation
from model_registry.endpoints import package_of_model
from model_registry.errors import UserError
from model_registry.names import scaling_resource_id

NAMESPACE, DIMENSION = "sagemaker", "sagemaker:variant:DesiredInstanceCount"


class TargetError(UserError):
    """An endpoint that cannot be load-tested as it is; the message says what is missing."""


@dataclass(frozen=True)
class Target:
    endpoint: str
    variant: str
    package_arn: str
    instance_type: str
    # Invocations per instance per minute the registered policy holds (the plan's when none is).
    target_per_minute: float
    target_source: str
    min_instances: int
    max_instances: int
    planned_instances: int
    sample_payload_url: str

    @property
    def target_rps(self) -> float:
        return self.target_per_minute / 60

    @property
    def planned_peak_rps(self) -> float:
        """What the planned fleet holds at its target: the plan sized it for the configured peak."""
        return self.planned_instances * self.target_rps

    def as_json(self) -> dict:
        return {
            "endpoint": self.endpoint,
            "variant": self.variant,
            "model_package_arn": self.package_arn,
            "instance_type": self.instance_type,
            "target_invocations_per_instance": self.target_per_minute,
            "target_source": self.target_source,
            "min_instances": self.min_instances,
            "max_instances": self.max_instances,
            "planned_instances": self.planned_instances,
        }


def read(sm: BaseClient, aas: BaseClient, endpoint: str) -> Target:
    try:
        d = sm.describe_endpoint(EndpointName=endpoint)
    except sm.exceptions.ClientError as err:
        raise TargetError(f"--endpoint {endpoint}: {err.response['Error']['Message']}") from None
    if d["EndpointStatus"] != "InService":
        raise TargetError(f"--endpoint {endpoint}: is {d['EndpointStatus']}, expected InService")
    config = sm.describe_endpoint_config(EndpointConfigName=d["EndpointConfigName"])
    variant = config["ProductionVariants"][0]
    arn = package_of_model(sm.describe_model(ModelName=variant["ModelName"]))
    if not arn:
        raise TargetError(f"--endpoint {endpoint}: its model names no model package, so it has no plan")
    pkg = packages.describe(sm, arn)
    rec = Recommendation.from_properties(arn, pkg.customer_metadata)
    if not pkg.sample_payload_url:
        raise TargetError(f"{arn}: no SamplePayloadUrl registered; the load test replays its rows")
    resource_id = scaling_resource_id(endpoint, variant["VariantName"])
    scalable = aas.describe_scalable_targets(
        ServiceNamespace=NAMESPACE, ResourceIds=[resource_id], ScalableDimension=DIMENSION
    )["ScalableTargets"]
    policies = aas.describe_scaling_policies(
        ServiceNamespace=NAMESPACE, ResourceId=resource_id, ScalableDimension=DIMENSION
    )["ScalingPolicies"]
    tracking = [
        p["TargetTrackingScalingPolicyConfiguration"] for p in policies if p["PolicyType"] == "TargetTrackingScaling"
    ]
    return Target(
        endpoint=endpoint,
        variant=variant["VariantName"],
        package_arn=arn,
        instance_type=variant.get("InstanceType", rec.recommended_instance_type),
        target_per_minute=float(tracking[0]["TargetValue"]) if tracking else float(rec.target_invocations_per_instance),
        target_source="registered scaling policy" if tracking else "plan (no scaling policy registered)",
        min_instances=int(scalable[0]["MinCapacity"]) if scalable else rec.min_instance_count,
        max_instances=int(scalable[0]["MaxCapacity"]) if scalable else rec.max_instance_count,
        planned_instances=rec.recommended_instance_count,
        sample_payload_url=pkg.sample_payload_url,
    )


def sample_rows(s3: BaseClient, url: str) -> list[str]:
    """The CSV rows of the registered sample payload, one request each."""
    bucket, _, key = url.removeprefix("s3://").partition("/")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "payload.tar.gz"
        path.write_bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        payload = read_sample_payload(path)
    rows = [r for body in payload.bodies.values() for r in body.decode().splitlines() if r.strip()]
    if not rows:
        raise TargetError(f"{url}: the sample payload holds no rows")
    return rows
