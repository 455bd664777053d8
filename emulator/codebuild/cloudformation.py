"""AWS::CodeBuild::Project in moto's CloudFormation (which has no CodeBuild resources): the
project created in moto's CodeBuild, as CreateProject would; `Ref` is its name, `Fn::GetAtt
Arn` its ARN (CloudFormation User Guide, AWS::CodeBuild::Project)."""

from __future__ import annotations

from typing import Any

from moto.codebuild.models import codebuild_backends
from moto.core.common_models import CloudFormationModel

from emulator.cloudformation_props import NamedResource, api_shape

_RENAMES = {"BuildSpec": "buildspec"}


class CodeBuildProject(NamedResource, CloudFormationModel):
    ATTRIBUTE = "Arn"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::CodeBuild::Project"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kwargs: Any
    ) -> CodeBuildProject:
        p = api_shape(cloudformation_json["Properties"], _RENAMES, frozenset())
        # A Ref to a Number parameter is a string in CloudFormation ("when you use the parameter
        # elsewhere in your template (for example, by using the Ref intrinsic function), the
        # parameter value becomes a string": User Guide, Parameters); moto resolves it to a number.
        for var in p["environment"].get("environmentVariables") or []:
            var["value"] = str(var["value"])
        backend = codebuild_backends[account_id][region_name]
        created = backend.create_project(
            resource_name,
            p.get("description"),
            p.get("source") or {"type": "NO_SOURCE"},
            p.get("artifacts") or {"type": "NO_ARTIFACTS"},
            p["environment"],
            p["serviceRole"],
            p.get("tags"),
            p.get("cache"),
            p.get("timeoutInMinutes") or 60,
            p.get("queuedTimeoutInMinutes") or 480,
            p.get("sourceVersion"),
            p.get("logsConfig"),
            p.get("vpcConfig"),
        )
        return cls(resource_name, created["arn"])

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls,
        original_resource: CodeBuildProject,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> CodeBuildProject:
        codebuild_backends[account_id][region_name].delete_project(original_resource.name)
        return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        codebuild_backends[account_id][region_name].delete_project(resource_name)
