"""SageMaker instances in use by endpoints, and asked for by a create or update, by type."""

from __future__ import annotations

from collections import Counter
from typing import Any

# Endpoints that hold no instances.
_RELEASED = ("Failed", "Deleting", "OutOfService")


def _variant_count(variant: dict[str, Any]) -> int:
    for key in ("CurrentInstanceCount", "DesiredInstanceCount", "InitialInstanceCount"):
        if variant.get(key) is not None:
            return int(variant[key])
    return 0


def of_config(backend: Any, config_name: str) -> Counter:
    config = backend.endpoint_configs.get(config_name)
    out: Counter = Counter()
    for variant in config.production_variants if config else []:
        if variant.get("InstanceType"):
            out[variant["InstanceType"]] += _variant_count(variant)
    return out


def in_use(backend: Any, pending: dict[str, str]) -> Counter:
    """Every active endpoint's fleet (its config's types, its variants' current counts); an
    endpoint being updated blue/green also runs the fleet of its `pending` config."""
    out: Counter = Counter()
    for name, endpoint in backend.endpoints.items():
        if endpoint.endpoint_status in _RELEASED:
            continue
        config = backend.endpoint_configs.get(endpoint.endpoint_config_name)
        types = {v["VariantName"]: v.get("InstanceType") for v in (config.production_variants if config else [])}
        for variant in endpoint.production_variants or []:
            if types.get(variant["VariantName"]):
                out[types[variant["VariantName"]]] += _variant_count(variant)
        if name in pending:
            out += of_config(backend, pending[name])
    return out
