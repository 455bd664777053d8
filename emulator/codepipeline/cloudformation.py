"""AWS::CodePipeline::Pipeline in moto's CloudFormation (which has no CodePipeline resources):
the declaration checked and stored as CreatePipeline would, and, as on AWS, an execution
started by the creation (trigger type CreatePipeline; CodePipeline User Guide, "Start a
pipeline in CodePipeline"). `Ref` is the name, `Fn::GetAtt Version` the version."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moto.codepipeline.models import codepipeline_backends
from moto.core.common_models import CloudFormationModel
from moto.core.exceptions import JsonRESTError

from emulator.cloudformation_props import NamedResource, api_shape
from emulator.codepipeline.responses import check_declaration
from emulator.protocol import ApiError

_SKIPPED = ("RestartExecutionOnUpdate", "DisableInboundStageTransitions", "Tags")
# Called with the new pipeline's name: the emulator starts its first execution.
created_listeners: list[Callable[[str], None]] = []


class Pipeline(NamedResource, CloudFormationModel):
    ATTRIBUTE = "Version"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::CodePipeline::Pipeline"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kwargs: Any
    ) -> Pipeline:
        declaration = _declaration(resource_name, cloudformation_json)
        tags = [{"key": t["Key"], "value": t["Value"]} for t in cloudformation_json["Properties"].get("Tags", [])]
        pipeline, _ = codepipeline_backends[account_id][region_name].create_pipeline(declaration, tags)
        for listener in created_listeners:
            listener(resource_name)
        return cls(resource_name, str(pipeline["version"]))

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls,
        original_resource: Pipeline,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> Pipeline:
        """A new name replaces the pipeline; otherwise UpdatePipeline (a new version; no execution
        starts: RestartExecutionOnUpdate is not emulated)."""
        if new_resource_name != original_resource.name:
            cls.delete_from_cloudformation_json(original_resource.name, cloudformation_json, account_id, region_name)
            return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)
        declaration = _declaration(new_resource_name, cloudformation_json)
        pipeline = codepipeline_backends[account_id][region_name].update_pipeline(declaration)
        return cls(new_resource_name, str(pipeline["version"]))

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        codepipeline_backends[account_id][region_name].delete_pipeline(resource_name)


def _declaration(name: str, cloudformation_json: dict[str, Any]) -> dict[str, Any]:
    props = {k: v for k, v in cloudformation_json["Properties"].items() if k not in _SKIPPED}
    declaration = api_shape(props, {}, frozenset({"Configuration"}))
    declaration["name"] = name
    try:
        check_declaration(declaration)
    except ApiError as exc:  # as the service's error, which CloudFormation reports for the resource
        raise JsonRESTError(exc.code, exc.message) from None
    return declaration
