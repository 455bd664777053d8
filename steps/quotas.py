"""The account's SageMaker quota for endpoint instances of one type, from Service Quotas, so
the gate holds the plan to what the account can run (boto3 and the standard library only)."""

from __future__ import annotations

from dataclasses import dataclass

from botocore.client import BaseClient
from botocore.exceptions import BotoCoreError, ClientError


@dataclass(frozen=True)
class EndpointQuota:
    name: str
    code: str
    value: int | None  # None when it cannot be read
    problem: str = ""


def quota_name(instance_type: str) -> str:
    return f"{instance_type} for endpoint usage"


def endpoint_quota(sq: BaseClient, instance_type: str) -> EndpointQuota:
    """The applied value of `<type> for endpoint usage` (found by name: its code differs per type)."""
    name = quota_name(instance_type)
    try:
        for page in sq.get_paginator("list_service_quotas").paginate(ServiceCode="sagemaker"):
            for q in page.get("Quotas", []):
                if q.get("QuotaName") == name:
                    return EndpointQuota(name, q.get("QuotaCode", ""), int(q["Value"]))
    except ClientError as exc:
        code = exc.response["Error"].get("Code", "")
        return EndpointQuota(name, "", None, f"Service Quotas answered {code}")
    except BotoCoreError as exc:
        return EndpointQuota(name, "", None, f"Service Quotas cannot be reached ({type(exc).__name__})")
    return EndpointQuota(name, "", None, "Service Quotas has no such quota in this region")
