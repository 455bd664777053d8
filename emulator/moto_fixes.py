"""Corrections to moto's SageMaker behaviour, so it answers as AWS does.

moto 5.2.5's UpdateModelPackage overwrites every field it was not given (the approval
status and description become null, CustomerMetadataProperties is replaced), and it does
not check metadata values against the API's pattern; AWS changes only what is given and
merges metadata keys. moto's instance-type allow-lists are out of date (it rejects e.g.
ml.c6i.large); botocore's service model is the current list. moto has no UpdateEndpoint;
here it swaps the configuration at once (the emulator adds the real, asynchronous one).
UpdatePipeline on a missing pipeline answers ValidationException where AWS says ResourceNotFound;
CreateEndpoint over an existing endpoint replaces it where AWS refuses.
moto has no ML Lineage Tracking and refuses tags on model packages; both are added here, one
store per account and region, so the emulator and moto-based tests share them.
Applied by the emulator, and by unit tests that use moto directly.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.core.utils import utcnow
from moto.sagemaker import models, responses
from moto.sagemaker.exceptions import ResourceNotFound, ValidationError

from emulator import tracking
from emulator.iam import principals
from model_registry.instance_types import realtime_instance_types

# CustomerMetadataValue / Key in the API model: letters, numbers, separators and _.:/=+-@
_METADATA = re.compile(r"[\w\s.:/=+\-@]*", re.UNICODE)

ApprovalListener = Callable[[models.ModelPackage, str | None], None]
_listeners: list[ApprovalListener] = []


def subscribe(listener: ApprovalListener) -> None:
    """Call `listener(package, previous_status)` whenever a package's approval status changes."""
    _listeners.append(listener)


@contextlib.contextmanager
def approval_changes(listener: ApprovalListener) -> Iterator[None]:
    subscribe(listener)
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
    # moto replaces the package's additional specifications with the (absent) list to add on
    # every update; AWS only ever adds to them, and refuses a name the package already has.
    if additional_inference_specifications_to_add:
        names = [s["Name"] for s in package.additional_inference_specifications or []]
        taken = [s["Name"] for s in additional_inference_specifications_to_add if s["Name"] in names]
        if taken:
            raise ValidationError(f"Model package {model_package_arn} already has inference specifications {taken}")
        package.add_additional_inference_specifications(additional_inference_specifications_to_add)
    package.modifications_done()
    caller = principals.current()
    if caller is not None:
        package.last_modified_by = principals.user_context(caller)
    if model_approval_status is not None and model_approval_status != previous:
        for listener in list(_listeners):
            listener(package, previous)
    return package.arn


_original_create = models.SageMakerModelBackend.create_model_package
_original_create_group = models.SageMakerModelBackend.create_model_package_group
_original_create_endpoint = models.SageMakerModelBackend.create_endpoint


def _create_model_package(self: models.SageMakerModelBackend, *args: Any, **kwargs: Any) -> str:
    props = kwargs.get("customer_metadata_properties")
    if props:
        _check_metadata(props)
    arn = _original_create(self, *args, **kwargs)
    caller = principals.current()
    if caller is not None:
        record = self.model_packages[self.model_package_name_mapping.get(arn, arn)]
        record.created_by = record.last_modified_by = principals.user_context(caller)
    package = self.describe_model_package(arn).gen_response_object()
    group = self.model_package_groups.get(package.get("ModelPackageGroupName") or "")
    tracking.model_package(_stores(self)[0], package, group.arn if group else None)
    return arn


def _create_model_package_group(self: models.SageMakerModelBackend, *args: Any, **kwargs: Any) -> str:
    arn = _original_create_group(self, *args, **kwargs)
    tracking.model_package_group(_stores(self)[0], arn, arn.rsplit("/", 1)[-1])
    return arn


def record_deployment(backend: models.SageMakerModelBackend, endpoint_name: str, config_name: str) -> None:
    """SageMaker's own lineage of a create or update of an endpoint."""
    endpoint = backend.endpoints[endpoint_name]
    config = backend.endpoint_configs[config_name]
    names = [v["ModelName"] for v in config.production_variants]
    found = [backend.describe_model(n).gen_response_object() for n in names if n in backend._models]
    tracking.deployment(_stores(backend)[0], endpoint.arn, endpoint_name, config.endpoint_config_arn, found)


def _create_endpoint(self: models.SageMakerModelBackend, endpoint_name: str, *args: Any, **kwargs: Any) -> Any:
    # moto replaces an existing endpoint; SageMaker refuses (the loser of two concurrent deploys sees this).
    if endpoint_name in self.endpoints:
        arn = models.FakeEndpoint.arn_formatter(endpoint_name, self.account_id, self.region_name)
        raise ValidationError(message=f'Cannot create already existing endpoint "{arn}".')
    endpoint = _original_create_endpoint(self, endpoint_name, *args, **kwargs)
    record_deployment(self, endpoint.endpoint_name, endpoint.endpoint_config_name)
    return endpoint


def _validate_instance_type(self: Any, instance_type: str) -> None:
    if instance_type not in realtime_instance_types():
        raise ValidationError(
            message=f"Value '{instance_type}' at 'instanceType' failed to satisfy constraint:"
            " Member must satisfy enum value set of ProductionVariantInstanceType"
        )


def _validate_realtime_types(instance_types_: list[str]) -> None:
    for t in instance_types_:
        _validate_instance_type(None, t)


def endpoint_to_update(
    backend: models.SageMakerModelBackend, endpoint_name: str, endpoint_config_name: str
) -> models.FakeEndpoint:
    """The checks AWS makes before UpdateEndpoint; the emulator's blue/green update shares them."""
    endpoint = backend.endpoints.get(endpoint_name)
    if endpoint is None:
        arn = models.FakeEndpoint.arn_formatter(endpoint_name, backend.account_id, backend.region_name)
        raise ValidationError(message=f"Could not find endpoint '{arn}'.")
    if endpoint.endpoint_status != "InService":
        raise ValidationError(message=f"Cannot update in-progress endpoint '{endpoint.arn}'.")
    if endpoint_config_name not in backend.endpoint_configs:
        arn = models.FakeEndpointConfig.arn_formatter(endpoint_config_name, backend.account_id, backend.region_name)
        raise ValidationError(message=f"Could not find endpoint configuration '{arn}'.")
    return endpoint


def _update_endpoint(self: models.SageMakerModelBackend, endpoint_name: str, endpoint_config_name: str) -> str:
    endpoint = endpoint_to_update(self, endpoint_name, endpoint_config_name)
    config = self.endpoint_configs[endpoint_config_name]
    endpoint.endpoint_config_name = endpoint_config_name
    endpoint.production_variants = endpoint._process_production_variants(config.production_variants)
    endpoint.last_modified_time = utcnow()
    record_deployment(self, endpoint_name, endpoint_config_name)
    return endpoint.arn


def _update_endpoint_response(self: responses.SageMakerResponse) -> Any:
    arn = self.sagemaker_backend.update_endpoint(
        endpoint_name=self._get_param("EndpointName"),
        endpoint_config_name=self._get_param("EndpointConfigName"),
    )
    return json.dumps({"EndpointArn": arn})


_original_update_pipeline = models.SageMakerModelBackend.update_pipeline


def _update_pipeline(self: models.SageMakerModelBackend, pipeline_name: str, **kwargs: Any) -> str:
    # AWS answers ResourceNotFound for a pipeline that does not exist (moto: ValidationException).
    if pipeline_name not in self.pipelines:
        raise ResourceNotFound(f"Pipeline '{pipeline_name}' does not exist.")
    return _original_update_pipeline(self, pipeline_name, **kwargs)


def _stores(backend: models.SageMakerModelBackend) -> tuple[Any, Any]:
    """The lineage graph and package tags of one moto backend (created with it, reset with it)."""
    from emulator.lineage import Lineage
    from emulator.tags import PackageTags

    if not hasattr(backend, "rtb_lineage"):
        backend.rtb_lineage = Lineage(backend.account_id, backend.region_name)
        backend.rtb_tags = PackageTags()
    return backend.rtb_lineage, backend.rtb_tags


def _timestamps(value: Any) -> Any:
    if hasattr(value, "timestamp"):
        return value.timestamp()
    raise TypeError(type(value).__name__)


def _json_operation(name: str, pick: Callable[[tuple[Any, Any]], Any], fallback: Callable | None = None) -> Callable:
    def method(self: responses.SageMakerResponse) -> Any:
        from emulator.protocol import ApiError
        from emulator.validation import RequestValidator

        params = json.loads(self.body or "{}")
        if fallback is not None and ":model-package/" not in params.get("ResourceArn", ""):
            return fallback(self)
        try:
            # Tests on moto alone hold lineage calls to the API's patterns as the emulator does.
            RequestValidator().check(f"SageMaker.{name}", self.body or b"")
            result = pick(_stores(self.sagemaker_backend)).operations()[name](params)
        except ApiError as err:
            raise JsonRESTError(err.code, err.message) from None
        return json.dumps(result, default=_timestamps)

    return method


def apply() -> None:
    models.SageMakerModelBackend.update_model_package = _update_model_package
    models.SageMakerModelBackend.create_model_package = _create_model_package
    models.SageMakerModelBackend.create_model_package_group = _create_model_package_group
    models.SageMakerModelBackend.create_endpoint = _create_endpoint
    models.SageMakerModelBackend.update_endpoint = _update_endpoint
    models.SageMakerModelBackend.update_pipeline = _update_pipeline
    responses.SageMakerResponse.update_endpoint = _update_endpoint_response
    models.FakeEndpointConfig.validate_instance_type = _validate_instance_type
    models.ModelPackage.validate_supported_realtime_inference_instance_types = staticmethod(_validate_realtime_types)
    from emulator.lineage import Lineage

    for op in Lineage("", "").operations():
        setattr(responses.SageMakerResponse, _snake(op), _json_operation(op, lambda stores: stores[0]))
    for op in ("AddTags", "ListTags", "DeleteTags"):
        original = getattr(responses.SageMakerResponse, _snake(op))
        setattr(responses.SageMakerResponse, _snake(op), _json_operation(op, lambda stores: stores[1], original))


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
