"""moto's CloudFormation answers CreateStack with the raw error of a resource its service
refuses (a JSON body botocore cannot read as the query protocol); CloudFormation accepts the
stack and then fails it: the resource CREATE_FAILED with the service's message, the stack
ROLLBACK_COMPLETE. Here it fails the same way (created resources are left, not rolled back).
moto's CloudFormation has no CodeBuild or CodePipeline resources: the emulator's are added;
roles get their ManagedPolicyArns (cloudformation_iam)."""

from __future__ import annotations

from typing import Any

from moto.cloudformation import parsing
from moto.cloudformation.models import Stack
from moto.core.exceptions import JsonRESTError

_original_create = Stack.create_resources
_original_outputs = Stack.outputs.fget
_original_exports = Stack.exports.fget
_original_resources = Stack.stack_resources.fget


def _create_resources(self: Stack) -> None:
    try:
        _original_create(self)
    except JsonRESTError as exc:
        reason = f'Resource handler returned message: "{exc.message}" (HandlerErrorCode: InvalidRequest)'
        self._add_stack_event("CREATE_FAILED", resource_status_reason=reason)
        self.status = "ROLLBACK_COMPLETE"
        self._add_stack_event("ROLLBACK_COMPLETE", resource_status_reason=reason)


def _tolerant(read: Any) -> Any:
    """moto makes the resources an output refers to when the outputs are first read (even
    before creating the stack's resources); a refusal there is the stack's failure, met and
    recorded by create_resources, so a failed stack simply has no outputs."""

    def getter(self: Stack) -> Any:
        try:
            return read(self)
        except JsonRESTError:
            return None if read is _original_outputs else []

    return property(getter)


def _known_resources(self: Stack) -> list:
    """The stack's resources without the None moto keeps for a type it does not model (e.g.
    AWS::SQS::QueuePolicy), which breaks DescribeStackResource(s) on any logical ID."""
    return [r for r in _original_resources(self) if r is not None]


def _add_resource_types() -> None:
    """moto finds resource types among CloudFormationModel's subclasses, cached at first use."""
    from emulator.codebuild import cloudformation as codebuild  # noqa: F401 (registers the type)
    from emulator.codepipeline import cloudformation as codepipeline  # noqa: F401 (registers the type)

    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()


def apply() -> None:
    from emulator import cloudformation_iam, ecr_cloudformation

    cloudformation_iam.apply()
    _add_resource_types()
    ecr_cloudformation.apply()
    Stack.create_resources = _create_resources
    Stack.outputs = _tolerant(_original_outputs)
    Stack.exports = _tolerant(_original_exports)
    Stack.stack_resources = property(_known_resources)
