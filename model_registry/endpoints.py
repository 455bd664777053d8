"""Which model package an endpoint serves, read from the Model its config names.

The deploy, the audit, `registry history` and the emulator all ask this; a Model made with
one container has it in `PrimaryContainer`, one made with `Containers` in the first of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def primary_container(model: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """The container that serves a `DescribeModel` response ({} when there is none)."""
    model = model or {}
    return model.get("PrimaryContainer") or (model.get("Containers") or [{}])[0]


def package_of_model(model: Mapping[str, Any] | None) -> str | None:
    """The model package ARN a `DescribeModel` response was made from, or None."""
    return primary_container(model).get("ModelPackageName") or None


def specification_of_model(model: Mapping[str, Any] | None) -> str:
    """The package's inference specification a model serves ("": the primary one)."""
    return primary_container(model).get("InferenceSpecificationName") or ""
