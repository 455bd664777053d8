"""AWS::IAM::Role's ManagedPolicyArns, which moto's CloudFormation ignores: a role declared with
managed policies was created with none attached, so everything those policies allow was refused.
CloudFormation attaches them on create and keeps the attachments to the list on update
(AWS::IAM::Role, ManagedPolicyArns: "A list of Amazon Resource Names (ARNs) of the IAM managed
policies that you want to attach to the role",
https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-iam-role.html)."""

from __future__ import annotations

from typing import Any

from moto.iam.models import Role, iam_backends
from moto.utilities.utils import get_partition

_original_create = Role.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]
_original_update = Role.update_from_cloudformation_json.__func__  # type: ignore[attr-defined]


def _declared(cloudformation_json: dict[str, Any]) -> list[str]:
    # A conditional entry (!If [..., !Ref AWS::NoValue]) leaves no ARN.
    arns = cloudformation_json.get("Properties", {}).get("ManagedPolicyArns") or []
    return [a for a in arns if isinstance(a, str) and a.startswith("arn:")]


def _sync(role: Role, arns: list[str], account_id: str, region_name: str) -> None:
    backend = iam_backends[account_id][get_partition(region_name)]
    for arn in set(role.managed_policies) - set(arns):
        backend.detach_role_policy(arn, role.name)
    for arn in arns:
        if arn not in role.managed_policies:
            backend.attach_role_policy(arn, role.name)


def _create(cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kw):
    role = _original_create(cls, resource_name, cloudformation_json, account_id, region_name, **kw)
    _sync(role, _declared(cloudformation_json), account_id, region_name)
    return role


def _update(
    cls,
    original_resource: Role,
    new_resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
):
    role = _original_update(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name)
    _sync(role, _declared(cloudformation_json), account_id, region_name)
    return role


def apply() -> None:
    Role.create_from_cloudformation_json = classmethod(_create)  # type: ignore[method-assign,assignment]
    Role.update_from_cloudformation_json = classmethod(_update)  # type: ignore[method-assign,assignment]
