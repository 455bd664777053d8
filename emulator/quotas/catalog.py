"""The quotas the emulator holds the account to, their codes and default values."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace

from model_registry.instance_types import realtime_instance_types

QUOTAS_FLAG = "RTB_EMULATOR_QUOTAS"
LAMBDA_CONCURRENCY = "Concurrent executions"
ACROSS_ENDPOINTS = "Number of instances across active endpoints"

# Lambda: 1,000 is the documented default, but new accounts get 10 (Lambda developer guide,
# "Lambda quotas" and "Configuring reserved concurrency"); a first deployment meets 10.
LAMBDA_NEW_ACCOUNT_CONCURRENCY = 10
# Lambda keeps at least this much concurrency unreserved (or all of it, below 100).
UNRESERVED_MINIMUM = 100
# SageMaker's per-type and across-endpoint defaults differ by account and region (new accounts
# report 0 to 20); 20 is the value AWS has long shown for both. Set yours with QUOTAS_FLAG.
ENDPOINT_INSTANCES_DEFAULT = 20

# Codes as Service Quotas names them, where found (others get an emulator code, said as such).
_KNOWN_CODES = {
    ("lambda", LAMBDA_CONCURRENCY): "L-B99A9384",
    ("sagemaker", ACROSS_ENDPOINTS): "L-7A3DF611",
    ("sagemaker", "ml.c5.large for endpoint usage"): "L-4D27DFDD",
}


@dataclass(frozen=True)
class Quota:
    service_code: str
    name: str
    value: float
    unit: str = "None"

    @property
    def code(self) -> str:
        known = _KNOWN_CODES.get((self.service_code, self.name))
        return known or "emulator-" + self.name.replace(".", "-").replace(" ", "-").lower()[:100]


def endpoint_usage(instance_type: str) -> str:
    return f"{instance_type} for endpoint usage"


def _defaults() -> list[Quota]:
    quotas = [
        Quota("lambda", LAMBDA_CONCURRENCY, LAMBDA_NEW_ACCOUNT_CONCURRENCY),
        Quota("sagemaker", ACROSS_ENDPOINTS, ENDPOINT_INSTANCES_DEFAULT, "Count"),
    ]
    quotas += [
        Quota("sagemaker", endpoint_usage(t), ENDPOINT_INSTANCES_DEFAULT, "Count")
        for t in sorted(realtime_instance_types())
    ]
    return quotas


class AccountQuotas:
    """One account's quotas: the defaults, with the configured values over them."""

    def __init__(self, overrides: dict[str, float] | None = None, enforced: bool = True):
        self.enforced = enforced
        self.by_name = {q.name: q for q in _defaults()}
        for name, value in (overrides or {}).items():
            if name not in self.by_name:
                raise ValueError(f"{QUOTAS_FLAG}: no quota named {name!r} (e.g. {ACROSS_ENDPOINTS!r})")
            self.by_name[name] = replace(self.by_name[name], value=float(value))

    @classmethod
    def from_environment(cls) -> AccountQuotas:
        setting = os.environ.get(QUOTAS_FLAG, "").strip()
        if setting == "off":
            return cls(enforced=False)
        return cls(json.loads(setting) if setting else None)

    def value(self, name: str) -> float:
        return self.by_name[name].value

    def of_service(self, service_code: str) -> list[Quota]:
        return [q for q in self.by_name.values() if q.service_code == service_code]
