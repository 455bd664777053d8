"""AWS::ECR::Repository from CloudFormation, as AWS makes it.

moto 5.2.5's handler passes ImageScanningConfiguration and EncryptionConfiguration on in
CloudFormation's casing (`ScanOnPush`), where its ECR backend reads the API's (`scanOnPush`),
so a repository asked to scan on push does not; and it drops LifecyclePolicy. Here both reach
the backend as CreateRepository and PutLifecyclePolicy would give them, and a lifecycle policy
ECR refuses fails the resource (cloudformation_fixes turns that into CREATE_FAILED).
"""

from __future__ import annotations

from typing import Any

from moto.ecr.models import Repository, ecr_backends

_original_create = Repository.create_from_cloudformation_json.__func__


def _api_casing(config: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if config is None else {key[:1].lower() + key[1:]: value for key, value in config.items()}


def _create(cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any):
    properties = dict(cloudformation_json["Properties"])
    lifecycle = properties.pop("LifecyclePolicy", None)
    for key in ("ImageScanningConfiguration", "EncryptionConfiguration"):
        if key in properties:
            properties[key] = _api_casing(properties[key])
    repo = _original_create(cls, resource_name, {**cloudformation_json, "Properties": properties}, account_id,
                            region_name, **kwargs)  # fmt: skip
    if lifecycle and lifecycle.get("LifecyclePolicyText"):
        backend = ecr_backends[account_id][region_name]
        backend.put_lifecycle_policy(lifecycle.get("RegistryId"), repo.name, lifecycle["LifecyclePolicyText"])
    return repo


def apply() -> None:
    Repository.create_from_cloudformation_json = classmethod(_create)
