"""Model Package Groups and versioned model packages (boto3 only)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.client import BaseClient
from botocore.exceptions import ClientError

from model_registry.contract import ARTIFACT_SHA256, GOLDEN_OUTPUTS_SHA256, GOLDEN_OUTPUTS_URI
from model_registry.errors import UserError
from model_registry.names import FAST_SPECIFICATION

APPROVED = "Approved"
REJECTED = "Rejected"
PENDING = "PendingManualApproval"
APPROVAL_STATUSES = (APPROVED, REJECTED, PENDING)


@dataclass(frozen=True)
class PackageVersion:
    arn: str
    group: str
    version: int
    approval_status: str
    status: str
    creation_time: datetime | None
    approval_description: str = ""
    customer_metadata: dict[str, str] = field(default_factory=dict)
    created_by: str = ""
    last_modified_by: str = ""
    last_modified_time: datetime | None = None
    model_data_url: str = ""
    image: str = ""
    environment: dict[str, str] = field(default_factory=dict)
    # AdditionalInferenceSpecifications: name -> the image of its (first) container.
    specifications: dict[str, str] = field(default_factory=dict)
    sample_payload_url: str = ""
    metadata_properties: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_api(cls, resp: dict[str, Any]) -> PackageVersion:
        """From a DescribeModelPackage response or a ModelPackageSummary."""
        container = (resp.get("InferenceSpecification", {}).get("Containers") or [{}])[0]
        return cls(
            arn=resp["ModelPackageArn"],
            group=resp.get("ModelPackageGroupName", ""),
            version=int(resp.get("ModelPackageVersion", 0)),
            approval_status=resp.get("ModelApprovalStatus", ""),
            status=resp.get("ModelPackageStatus", ""),
            creation_time=resp.get("CreationTime"),
            approval_description=resp.get("ApprovalDescription", ""),
            customer_metadata=dict(resp.get("CustomerMetadataProperties", {})),
            created_by=_user(resp.get("CreatedBy")),
            last_modified_by=_user(resp.get("LastModifiedBy")),
            last_modified_time=resp.get("LastModifiedTime"),
            model_data_url=container.get("ModelDataUrl", ""),
            image=container.get("Image", ""),
            environment=dict(container.get("Environment", {})),
            sample_payload_url=resp.get("SamplePayloadUrl", ""),
            metadata_properties=dict(resp.get("MetadataProperties", {})),
            specifications={
                spec.get("Name", ""): ((spec.get("Containers") or [{}])[0]).get("Image", "")
                for spec in resp.get("AdditionalInferenceSpecifications") or []
            },
        )


def _user(context: dict | None) -> str:
    """Who, from a UserContext: the IAM identity, else the Studio user profile."""
    if not context:
        return ""
    identity = context.get("IamIdentity") or {}
    return (
        identity.get("Arn")
        or context.get("UserProfileName")
        or context.get("UserProfileArn")
        or identity.get("PrincipalId")
        or ""
    )


@dataclass(frozen=True)
class Registration:
    """What a new version of the bid filter is registered with."""

    group: str
    image_uri: str
    model_data_url: str
    sample_payload_url: str
    framework_version: str
    instance_types: tuple[str, ...]
    artifact_sha256: str
    golden_uri: str
    golden_sha256: str
    commit: str
    repository: str
    generated_by: str
    fast_image_uri: str

    def to_request(self) -> dict[str, Any]:
        fast = fast_specification(self.fast_image_uri, self.model_data_url, self.framework_version, self.instance_types)
        return {
            "AdditionalInferenceSpecifications": [fast],
            "ModelPackageGroupName": self.group,
            "ModelPackageDescription": "RTB bid-request filter (XGBoost, binary:logistic)",
            "InferenceSpecification": {
                "Containers": [
                    {
                        "Image": self.image_uri,
                        "ModelDataUrl": self.model_data_url,
                        "Framework": "XGBOOST",
                        "FrameworkVersion": self.framework_version,
                    }
                ],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
                "SupportedRealtimeInferenceInstanceTypes": list(self.instance_types),
            },
            "SamplePayloadUrl": self.sample_payload_url,
            "Domain": "MACHINE_LEARNING",
            "Task": "CLASSIFICATION",
            "ModelApprovalStatus": PENDING,
            "MetadataProperties": {
                "CommitId": self.commit,
                "Repository": self.repository,
                "GeneratedBy": self.generated_by,
            },
            "CustomerMetadataProperties": {
                ARTIFACT_SHA256: self.artifact_sha256,
                GOLDEN_OUTPUTS_URI: self.golden_uri,
                GOLDEN_OUTPUTS_SHA256: self.golden_sha256,
            },
        }


def fast_specification(image_uri: Any, model_data_url: Any, framework_version: str, instance_types) -> dict[str, Any]:
    """The AdditionalInferenceSpecificationDefinition for serving/'s image, beside the stock one
    (values may be pipeline parameters, which the SDK serialises)."""
    return {
        "Name": FAST_SPECIFICATION,
        "Description": "rtb-mlops serving: the model compiled with treelite/tl2cgen, xgboost fallback",
        "Containers": [
            {
                "Image": image_uri,
                "ModelDataUrl": model_data_url,
                "Framework": "XGBOOST",
                "FrameworkVersion": framework_version,
            }
        ],
        "SupportedContentTypes": ["text/csv"],
        "SupportedResponseMIMETypes": ["text/csv"],
        "SupportedRealtimeInferenceInstanceTypes": list(instance_types),
    }


def specification_container(package: dict[str, Any], name: str) -> dict[str, Any]:
    """The first container of a DescribeModelPackage response's specification `name` ("": the
    primary one); StopIteration when the package has no such specification."""
    if not name:
        return package["InferenceSpecification"]["Containers"][0]
    spec = next(s for s in package.get("AdditionalInferenceSpecifications") or [] if s["Name"] == name)
    return spec["Containers"][0]


def ensure_group(sm: BaseClient, name: str, description: str) -> str:
    """The group's ARN, creating the group only if it does not exist (safe to repeat or race)."""
    try:
        return sm.describe_model_package_group(ModelPackageGroupName=name)["ModelPackageGroupArn"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ValidationException":
            raise
    try:
        return sm.create_model_package_group(ModelPackageGroupName=name, ModelPackageGroupDescription=description)[
            "ModelPackageGroupArn"
        ]
    except ClientError as exc:
        # Another caller created it between our two calls.
        if "already exists" not in str(exc):
            raise
        return sm.describe_model_package_group(ModelPackageGroupName=name)["ModelPackageGroupArn"]


def register_version(sm: BaseClient, registration: Registration) -> str:
    return sm.create_model_package(**registration.to_request())["ModelPackageArn"]


def describe(sm: BaseClient, arn: str) -> PackageVersion:
    return PackageVersion.from_api(sm.describe_model_package(ModelPackageName=arn))


def set_approval(sm: BaseClient, arn: str, status: str, description: str) -> None:
    if status not in APPROVAL_STATUSES:
        raise UserError(f"approval status must be one of {APPROVAL_STATUSES}, got {status!r}")
    sm.update_model_package(ModelPackageArn=arn, ModelApprovalStatus=status, ApprovalDescription=description[:1024])


def update_metadata(sm: BaseClient, arn: str, properties: dict[str, str]) -> None:
    sm.update_model_package(ModelPackageArn=arn, CustomerMetadataProperties=properties)


def list_versions(sm: BaseClient, group: str, approval_status: str | None = None) -> list[PackageVersion]:
    """Newest first."""
    kwargs: dict[str, Any] = {"ModelPackageGroupName": group, "SortBy": "CreationTime", "SortOrder": "Descending"}
    if approval_status:
        kwargs["ModelApprovalStatus"] = approval_status
    out: list[PackageVersion] = []
    for page in sm.get_paginator("list_model_packages").paginate(**kwargs):
        out.extend(PackageVersion.from_api(s) for s in page["ModelPackageSummaryList"])
    return sorted(out, key=lambda p: p.version, reverse=True)


def latest_approved(sm: BaseClient, group: str) -> PackageVersion | None:
    approved = list_versions(sm, group, approval_status=APPROVED)
    return approved[0] if approved else None
