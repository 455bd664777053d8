"""What this function deploys at most, whatever a package's metadata asks for.

Anyone allowed `UpdateModelPackage` can edit `CustomerMetadataProperties`, so the
recommendation read there is held to the function's own settings before anything is written:
every instance count within MAX_INSTANCES and the recommended count within its own autoscaling
bounds, the instance type among ALLOWED_INSTANCE_TYPES (the recommender's candidates), and the
container environment to the variables the recommender may tune (`tunable_env`).
"""

from __future__ import annotations

import dataclasses

from deploy_lambda.settings import Settings
from model_registry import tunable_env
from model_registry.contract import (
    RECOMMENDED_INSTANCE_COUNT,
    RECOMMENDED_INSTANCE_TYPE,
    InvalidMetadata,
    Recommendation,
)

_COUNTS = (RECOMMENDED_INSTANCE_COUNT, "min_instance_count", "max_instance_count")


class Refused(InvalidMetadata):
    """The package's metadata asks for what this function does not deploy; the message names the key."""


def refuse(arn: str, problems: list[str]) -> None:
    """Raise `Refused` for `arn` listing every problem, if there is any."""
    if problems:
        raise Refused(f"{arn}: not deployed: {'; '.join(problems)}")


def problems(rec: Recommendation, settings: Settings) -> list[str]:
    out = [
        f"{key} = {getattr(rec, key)} is above this function's MAX_INSTANCES of {settings.max_instances}"
        for key in _COUNTS
        if getattr(rec, key) > settings.max_instances
    ]
    if not rec.min_instance_count <= rec.recommended_instance_count <= rec.max_instance_count:
        out.append(
            f"{RECOMMENDED_INSTANCE_COUNT} = {rec.recommended_instance_count} is outside the package's own bounds"
            f" min_instance_count..max_instance_count = {rec.min_instance_count}..{rec.max_instance_count}"
        )
    if rec.recommended_instance_type not in settings.instance_types:
        out.append(
            f"{RECOMMENDED_INSTANCE_TYPE} = {rec.recommended_instance_type!r} is not one of this function's"
            f" ALLOWED_INSTANCE_TYPES ({','.join(settings.instance_types)})"
        )
    out.extend(f"environment: {p}" for p in tunable_env.problems(rec.environment))
    return out


def within_bounds(rec: Recommendation, bounds: tuple[int, int] | None) -> Recommendation:
    """The recommendation with an endpoint's own autoscaling bounds (staging), its count held
    within them; unchanged when the endpoint has none."""
    if bounds is None:
        return rec
    lo, hi = bounds
    count = min(max(rec.recommended_instance_count, lo), hi)
    return dataclasses.replace(rec, recommended_instance_count=count, min_instance_count=lo, max_instance_count=hi)
