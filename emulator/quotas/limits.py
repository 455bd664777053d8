"""The checks AWS makes against the account's quotas, answered in AWS's words."""

from __future__ import annotations

from collections import Counter

from emulator.protocol import ApiError
from emulator.quotas.catalog import (
    ACROSS_ENDPOINTS,
    LAMBDA_CONCURRENCY,
    UNRESERVED_MINIMUM,
    AccountQuotas,
    endpoint_usage,
)

_RAISE = (
    "Please use AWS Service Quotas to request an increase for this quota. If AWS Service Quotas is not"
    " available, contact AWS support to request an increase for this quota."
)


def reservation_refusal(quotas: AccountQuotas, requested: int, reserved_elsewhere: int) -> str | None:
    """Lambda's answer when a reservation would leave less unreserved concurrency than its minimum."""
    if not quotas.enforced:
        return None
    limit = int(quotas.value(LAMBDA_CONCURRENCY))
    minimum = min(UNRESERVED_MINIMUM, limit)
    if limit - reserved_elsewhere - requested < minimum:
        return (
            "Specified ReservedConcurrentExecutions for function decreases account's"
            f" UnreservedConcurrentExecution below its minimum value of [{minimum}]."
        )
    return None


def check_endpoint_instances(quotas: AccountQuotas, in_use: Counter, requested: Counter) -> None:
    """SageMaker's ResourceLimitExceeded for instances per type and across active endpoints."""
    if not quotas.enforced:
        return
    checks = [(endpoint_usage(t), in_use[t], n) for t, n in sorted(requested.items())]
    checks.append((ACROSS_ENDPOINTS, sum(in_use.values()), sum(requested.values())))
    for name, used, delta in checks:
        limit = quotas.value(name)
        if used + delta > limit:
            raise ApiError(
                "ResourceLimitExceeded",
                f"The account-level service limit '{name}' is {limit:g} Instances, with current utilization of"
                f" {used} Instances and a request delta of {delta} Instances. {_RAISE}",
            )
