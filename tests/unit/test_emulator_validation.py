"""Requests checked against botocore's service model as AWS checks them, with AWS's wording."""

from __future__ import annotations

import json

import pytest

from emulator.protocol import ApiError
from emulator.validation import RequestValidator

ACCOUNT_ARN = "arn:aws:sagemaker:us-east-1:123456789012"


def refusal(target: str, params: dict) -> ApiError:
    with pytest.raises(ApiError) as err:
        RequestValidator().check(target, json.dumps(params).encode())
    return err.value


def test_an_association_with_a_model_package_arn_is_refused_naming_the_pattern():
    err = refusal(
        "SageMaker.AddAssociation",
        {"SourceArn": f"{ACCOUNT_ARN}:model-package/g/1", "DestinationArn": f"{ACCOUNT_ARN}:context/c"},
    )
    assert (err.code, err.status) == ("ValidationException", 400)
    assert err.message == (
        f"1 validation error detected: Value '{ACCOUNT_ARN}:model-package/g/1' at 'sourceArn' failed to satisfy"
        " constraint: Member must satisfy regular expression pattern: arn:aws[a-z\\-]*:sagemaker:[a-z0-9\\-]*:"
        "[0-9]{12}:(experiment|experiment-trial-component|artifact|action|context)/.*"
    )


def test_each_constraint_is_named_at_its_member_path():
    err = refusal(
        "SageMaker.CreateEndpointConfig",
        {
            "EndpointConfigName": "Bad_Name",
            "ProductionVariants": [{"VariantName": "v", "InitialInstanceCount": 0, "InstanceType": "ml.x9.huge"}],
            "Tags": [{"Key": "k"}],
        },
    )
    assert err.message.startswith("4 validation errors detected: Value 'Bad_Name' at 'endpointConfigName'")
    assert "Value '0' at 'productionVariants.1.member.initialInstanceCount' failed to satisfy constraint:" \
        " Member must have value greater than or equal to 1" in err.message  # fmt: skip
    assert "at 'productionVariants.1.member.instanceType' failed to satisfy constraint: Member must satisfy" \
        " enum value set: [ml.t2.medium," in err.message  # fmt: skip
    assert "Value null at 'tags.1.member.value' failed to satisfy constraint: Member must not be null" in err.message


def test_ranges_enums_and_java_unicode_classes_in_map_values():
    arn = f"{ACCOUNT_ARN}:model-package/g/1"
    RequestValidator().check(
        "SageMaker.UpdateModelPackage",
        json.dumps({"ModelPackageArn": arn, "CustomerMetadataProperties": {"k": "é ü=1 a:b"}}).encode(),
    )
    err = refusal("SageMaker.UpdateModelPackage", {"ModelPackageArn": arn, "CustomerMetadataProperties": {"k": "{}"}})
    assert "at 'customerMetadataProperties' failed to satisfy constraint: Map value must satisfy constraint:" in (
        err.message
    )
    err = refusal("SageMaker.ListModels", {"MaxResults": 101})
    assert "at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 100" in (
        err.message
    )
    err = refusal("AnyScaleFrontendService.DescribeScalableTargets", {"ServiceNamespace": "SageMaker"})
    assert "Value 'SageMaker' at 'serviceNamespace' failed to satisfy constraint: Member must satisfy enum" in (
        err.message
    )


def test_a_value_of_the_wrong_type_is_a_serialization_error():
    assert refusal("SageMaker.ListModels", {"MaxResults": "ten"}).code == "SerializationException"


def test_requests_of_other_protocols_and_unknown_targets_pass_through():
    RequestValidator().check(None, b"Action=GetCallerIdentity")
    RequestValidator().check("NoSuchService.Op", b"{}")
