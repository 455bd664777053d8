"""The EventBridge events the Lambda acts on, parsed as AWS documents them, and filtered.

Anything not meant for this function (another source, type, group, account or region, or
an approval status it does not act on) becomes a skip reason rather than an exception.
Only what the deploy reads is parsed: a field nobody reads cannot make an event a skip.
A skip reason quotes the event's values cut short (`shown`): an event is outside input, and
a 1 MB field must not become a 1 MB log line.
"""

from __future__ import annotations

import re
import reprlib
from dataclasses import dataclass
from typing import Any

from deploy_lambda.settings import Settings
from model_registry.names import ENDPOINT_CHANGE, EVENT_SOURCE, PACKAGE_CHANGE

# SageMaker's versioned model package ARN: Region, account, group (an EntityName) and version.
_PACKAGE_ARN = re.compile(
    r"arn:aws[a-z\-]{0,16}:sagemaker:([a-z0-9\-]{1,32}):([0-9]{12}):model-package/"
    r"([a-zA-Z0-9](?:-*[a-zA-Z0-9]){0,62})/([0-9]{1,10})"
)
_SHOWN = reprlib.Repr()
# Set one by one: Python 3.11 (the Lambda runtime) takes no keyword arguments here.
_SHOWN.maxstring = _SHOWN.maxother = 80
_SHOWN.maxlevel, _SHOWN.maxdict, _SHOWN.maxlist = 2, 4, 4


_MAX_SHOWN = 200


def shown(value: Any) -> str:
    """repr(value) within 200 characters, however large or deep the value (reprlib never
    builds the whole repr; the cut bounds what its per-item limits still let add up)."""
    text = _SHOWN.repr(value)
    return text if len(text) <= _MAX_SHOWN else f"{text[: _MAX_SHOWN - 3]}..."


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


def _detail(event: Any, detail_type: str, account: str, region: str) -> dict:
    """The event's detail, if the event is SageMaker's, of this type, and from this account and Region."""
    if not isinstance(event, dict):
        raise Skip(f"event is a {type(event).__name__}, not an EventBridge event object")
    if event.get("source") != EVENT_SOURCE:
        raise Skip(f"source {shown(event.get('source'))} is not {EVENT_SOURCE}")
    detail = event.get("detail")
    if not isinstance(detail, dict):
        raise Skip("event has no 'detail' object")
    if event.get("detail-type") != detail_type:
        raise Skip(f"detail-type {shown(event.get('detail-type'))} is not {detail_type!r}")
    if event.get("account") != account:
        raise Skip(f"event account {shown(event.get('account'))} is not this function's account {account}")
    if event.get("region") != region:
        raise Skip(f"event region {shown(event.get('region'))} is not this function's region {region}")
    return detail


def package_event(event: Any, settings: Settings, account: str, region: str) -> PackageEvent:
    return group_package_event(event, settings.model_package_group, account, region)


def group_package_event(event: Any, expected_group: str, account: str, region: str) -> PackageEvent:
    """The approval or rejection of a version of `expected_group` in this account and Region."""
    detail = _detail(event, PACKAGE_CHANGE, account, region)
    group = detail.get("ModelPackageGroupName")
    if group != expected_group:
        raise Skip(f"model package group {shown(group)} is not {expected_group!r}")
    arn = detail.get("ModelPackageArn")
    match = _PACKAGE_ARN.fullmatch(arn) if isinstance(arn, str) else None
    if not match:
        raise Skip(f"detail.ModelPackageArn {shown(arn)} is not a versioned model package ARN")
    arn_region, arn_account, arn_group, arn_version = match.groups()
    if (arn_account, arn_region) != (account, region):
        raise Skip(
            f"{arn} is in account {arn_account}, region {arn_region};"
            f" this function deploys in account {account}, region {region}"
        )
    if arn_group != group:
        raise Skip(f"{arn} is in group {arn_group}, but the event says {group}")
    version = detail.get("ModelPackageVersion")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise Skip(f"detail.ModelPackageVersion {shown(version)} is not a positive integer")
    if version != int(arn_version):
        raise Skip(f"detail.ModelPackageVersion {version} does not match the ARN's version {arn_version}")
    status = detail.get("ModelApprovalStatus")
    if status not in ("Approved", "Rejected"):
        raise Skip(f"approval status {shown(status)}: nothing to deploy")
    return PackageEvent(arn, group, version, status, account, region)


def check_endpoint_event(event: Any, settings: Settings, account: str, region: str) -> None:
    """Raise Skip unless the event is this function's endpoint reaching InService.

    Nothing else is taken from it: the deploy then reads the endpoint itself."""
    detail = _detail(event, ENDPOINT_CHANGE, account, region)
    name = detail.get("EndpointName")
    if name != settings.endpoint_name:
        raise Skip(f"endpoint {shown(name)} is not {settings.endpoint_name!r}")
    status = detail.get("EndpointStatus")
    if not isinstance(status, str) or status.upper().replace("INSERVICE", "IN_SERVICE") != "IN_SERVICE":
        raise Skip(f"endpoint status {shown(status)}: nothing to reconcile")
