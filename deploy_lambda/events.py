"""The EventBridge events the Lambda acts on, parsed as AWS documents them, and filtered.

Anything not meant for this function (another source, type, group, account or region, or
an approval status it does not act on) becomes a skip reason rather than an exception.
Only what the deploy reads is parsed: a field nobody reads cannot make an event a skip.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from deploy_lambda.settings import Settings
from model_registry.names import ENDPOINT_CHANGE, EVENT_SOURCE, PACKAGE_CHANGE

_PACKAGE_ARN = re.compile(r"arn:aws[a-z\-]*:sagemaker:([a-z0-9\-]+):(\d{12}):model-package/([^/]+)/(\d+)")


class Skip(Exception):
    """The event is not for us; the reason is logged and nothing is written."""


@dataclass(frozen=True)
class PackageEvent:
    arn: str
    group: str
    version: int
    status: str
    account: str
    region: str


def _detail(event: Any, detail_type: str) -> dict:
    """The event's detail, if the event is SageMaker's and of this type."""
    if not isinstance(event, dict):
        raise Skip(f"event is a {type(event).__name__}, not an EventBridge event object")
    if event.get("source") != EVENT_SOURCE:
        raise Skip(f"source {event.get('source')!r} is not {EVENT_SOURCE}")
    detail = event.get("detail")
    if not isinstance(detail, dict):
        raise Skip("event has no 'detail' object")
    if event.get("detail-type") != detail_type:
        raise Skip(f"detail-type {event.get('detail-type')!r} is not {detail_type!r}")
    return detail


def package_event(event: Any, settings: Settings, account: str, region: str) -> PackageEvent:
    detail = _detail(event, PACKAGE_CHANGE)
    group = detail.get("ModelPackageGroupName")
    if group != settings.model_package_group:
        raise Skip(f"model package group {group!r} is not {settings.model_package_group!r}")
    arn = detail.get("ModelPackageArn")
    match = _PACKAGE_ARN.fullmatch(arn) if isinstance(arn, str) else None
    if not match:
        raise Skip(f"detail.ModelPackageArn {arn!r} is not a versioned model package ARN")
    arn_region, arn_account, arn_group, arn_version = match.groups()
    if (arn_account, arn_region) != (account, region) or event.get("account", account) != account:
        raise Skip(f"{arn} belongs to account {arn_account} in {arn_region}, not {account} in {region}")
    if arn_group != group:
        raise Skip(f"{arn} is in group {arn_group}, but the event says {group}")
    version = detail.get("ModelPackageVersion")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise Skip(f"detail.ModelPackageVersion {version!r} is not a positive integer")
    if version != int(arn_version):
        raise Skip(f"detail.ModelPackageVersion {version} does not match the ARN's version {arn_version}")
    status = detail.get("ModelApprovalStatus")
    if status not in ("Approved", "Rejected"):
        raise Skip(f"approval status {status!r}: nothing to deploy")
    return PackageEvent(arn, group, version, status, account, region)


def check_endpoint_event(event: Any, settings: Settings) -> None:
    """Raise Skip unless the event is this function's endpoint reaching InService.

    Nothing else is taken from it: the deploy then reads the endpoint itself."""
    detail = _detail(event, ENDPOINT_CHANGE)
    name = detail.get("EndpointName")
    if name != settings.endpoint_name:
        raise Skip(f"endpoint {name!r} is not {settings.endpoint_name!r}")
    status = str(detail.get("EndpointStatus", "")).upper().replace("INSERVICE", "IN_SERVICE")
    if status != "IN_SERVICE":
        raise Skip(f"endpoint status {detail.get('EndpointStatus')!r}: nothing to reconcile")
