"""The account's SageMaker endpoint-instance quotas, from Service Quotas (boto3 and the
standard library only).

They answer two questions for the Recommend step: which instance types the account can host
endpoints on in this region (one `<type> for endpoint usage` quota each; this, not the step
image's botocore, whose instance-type list is years old, decides which recommendations are
usable), and how many instances of the chosen type it may run (the gate's quota check).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from botocore.client import BaseClient
from botocore.exceptions import BotoCoreError, ClientError

_SUFFIX = " for endpoint usage"


def quota_name(instance_type: str) -> str:
    return f"{instance_type}{_SUFFIX}"


@dataclass(frozen=True)
class EndpointQuotas:
    by_type: dict[str, int] = field(default_factory=dict)
    problem: str = ""  # why they could not be read, if they could not

    def instance_types(self) -> frozenset[str]:
        return frozenset(self.by_type)

    def value(self, instance_type: str) -> tuple[int | None, str]:
        """(quota, why it is unknown)."""
        if self.problem:
            return None, self.problem
        if instance_type not in self.by_type:
            return None, "Service Quotas has no such quota in this region"
        return self.by_type[instance_type], ""


def read(sq: BaseClient) -> EndpointQuotas:
    found: dict[str, int] = {}
    try:
        for page in sq.get_paginator("list_service_quotas").paginate(ServiceCode="sagemaker"):
            for q in page.get("Quotas", []):
                name = q.get("QuotaName", "")
                if name.startswith("ml.") and name.endswith(_SUFFIX):
                    found[name.removesuffix(_SUFFIX)] = int(q["Value"])
    except ClientError as exc:
        return EndpointQuotas(problem=f"Service Quotas answered {exc.response['Error'].get('Code', '')}")
    except BotoCoreError as exc:
        return EndpointQuotas(problem=f"Service Quotas cannot be reached ({type(exc).__name__})")
    return EndpointQuotas(found)
