"""Service Quotas' GetServiceQuota, GetAWSDefaultServiceQuota and ListServiceQuotas over the
quotas the emulator enforces, so code can read the numbers it will be held to."""

from __future__ import annotations

from typing import Any

from emulator.protocol import ApiError, operation
from emulator.quotas.catalog import AccountQuotas, Quota

_SERVICE_NAMES = {"lambda": "AWS Lambda", "sagemaker": "Amazon SageMaker"}


class ServiceQuotas:
    def __init__(self, quotas: AccountQuotas, account: str, region: str):
        self.quotas, self.account, self.region = quotas, account, region

    def _shape(self, q: Quota) -> dict[str, Any]:
        return {
            "ServiceCode": q.service_code,
            "ServiceName": _SERVICE_NAMES.get(q.service_code, q.service_code),
            "QuotaArn": f"arn:aws:servicequotas:{self.region}:{self.account}:{q.service_code}/{q.code}",
            "QuotaCode": q.code,
            "QuotaName": q.name,
            "Value": q.value,
            "Unit": q.unit,
            "Adjustable": True,
            "GlobalQuota": False,
        }

    @staticmethod
    def _find(quotas: AccountQuotas, params: dict[str, Any]) -> Quota:
        for q in quotas.of_service(params["ServiceCode"]):
            if q.code == params["QuotaCode"]:
                return q
        code, service = params["QuotaCode"], params["ServiceCode"]
        raise ApiError(
            "NoSuchResourceException",
            f"The request failed because the specified quota {code} does not exist for service {service}.",
        )

    @operation("ServiceQuotasV20190624.GetServiceQuota")
    def get(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"Quota": self._shape(self._find(self.quotas, params))}

    @operation("ServiceQuotasV20190624.GetAWSDefaultServiceQuota")
    def get_default(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"Quota": self._shape(self._find(AccountQuotas(), params))}

    @operation("ServiceQuotasV20190624.ListServiceQuotas")
    def list(self, params: dict[str, Any]) -> dict[str, Any]:
        found = self.quotas.of_service(params["ServiceCode"])
        if params.get("QuotaCode"):
            found = [q for q in found if q.code == params["QuotaCode"]]
        start = int(params.get("NextToken") or 0)
        size = int(params.get("MaxResults") or 100)
        page = found[start : start + size]
        out: dict[str, Any] = {"Quotas": [self._shape(q) for q in page]}
        if start + size < len(found):
            out["NextToken"] = str(start + size)
        return out
