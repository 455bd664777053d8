"""Corrections to moto's SageMaker model-package behaviour, so it answers as AWS does.

moto 5.2.5's UpdateModelPackage overwrites every field it was not given (the approval
status and description become null, CustomerMetadataProperties is replaced), and it does
not check metadata values against the API's pattern. AWS changes only what is given and
merges metadata keys. Applied by the emulator, and by unit tests that use moto directly.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from typing import Any

from moto.sagemaker import models
from moto.sagemaker.exceptions import ValidationError

# CustomerMetadataValue / Key in the API model: letters, numbers, separators and _.:/=+-@
_METADATA = re.compile(r"[\w\s.:/=+\-@]*", re.UNICODE)

ApprovalListener = Callable[[models.ModelPackage, str | None], None]
_listeners: list[ApprovalListener] = []


@contextlib.contextmanager
def approval_changes(listener: ApprovalListener) -> Iterator[None]:
    """Call `listener(package, previous_status)` whenever a package's approval status changes."""
    _listeners.append(listener)
    try:
        yield
    finally:
        _listeners.remove(listener)


def _check_metadata(props: dict[str, str]) -> None:
    for key, value in props.items():
        for what, text, limit in (("key", key, 128), ("value", value, 256)):
            if not text or len(text) > limit or not _METADATA.fullmatch(text):
                raise ValidationError(
                    f"CustomerMetadataProperties {what} {text!r} must be 1-{limit} characters of letters, numbers,"
                    " spaces and _.:/=+-@"
                )


def _update_model_package(
    self: models.SageMakerModelBackend,
    model_package_arn: str,
    model_approval_status: str | None,
    approval_description: str | None,
    customer_metadata_properties: dict[str, str] | None,
    customer_metadata_properties_to_remove: list[str] | None,
    additional_inference_specifications_to_add: list[Any] | None,
) -> str:
    name = self.model_package_name_mapping.get(model_package_arn, model_package_arn)
    package = self.model_packages.get(name)
    if package is None:
        raise ValidationError(f"Model package {model_package_arn} not found")
    if customer_metadata_properties:
        _check_metadata(customer_metadata_properties)
    previous = package.model_approval_status
    if model_approval_status is not None:
        package.set_model_approval_status(model_approval_status)
    if approval_description is not None:
        package.approval_description = approval_description
    if customer_metadata_properties:
        package.customer_metadata_properties = {
            **(package.customer_metadata_properties or {}),
            **customer_metadata_properties,
        }
    package.remove_customer_metadata_property(customer_metadata_properties_to_remove)
    package.add_additional_inference_specifications(additional_inference_specifications_to_add)
    package.modifications_done()
    if model_approval_status is not None and model_approval_status != previous:
        for listener in list(_listeners):
            listener(package, previous)
    return package.arn


_original_create = models.SageMakerModelBackend.create_model_package


def _create_model_package(self: models.SageMakerModelBackend, *args: Any, **kwargs: Any) -> str:
    props = kwargs.get("customer_metadata_properties")
    if props:
        _check_metadata(props)
    return _original_create(self, *args, **kwargs)


def apply() -> None:
    models.SageMakerModelBackend.update_model_package = _update_model_package
    models.SageMakerModelBackend.create_model_package = _create_model_package
