"""Checks of names, ARNs and URIs against the rules AWS itself applies.

The patterns come from botocore's service models (the same files the AWS SDKs are generated
from), so a name accepted here is one the API accepts, and the rules follow boto upgrades.
"""

from __future__ import annotations

import functools
import re

import botocore.session

# S3 bucket rules are not in the service model (the shape has no pattern); these are the
# documented general-purpose bucket naming rules.
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_IPV4 = re.compile(r"\d+\.\d+\.\d+\.\d+")


@functools.cache
def _shape(service: str, shape_name: str):
    model = botocore.session.get_session().get_service_model(service)
    return model.shape_for(shape_name)


def pattern_error(service: str, shape_name: str, value: str) -> str | None:
    """Why AWS would reject ``value`` for ``shape_name``, or None when it is acceptable."""
    meta = _shape(service, shape_name).metadata
    lo, hi = meta.get("min", 0), meta.get("max")
    if len(value) < lo or (hi is not None and len(value) > hi):
        return f"{lo} to {hi} characters ({shape_name})"
    pattern = meta.get("pattern")
    if pattern and not re.fullmatch(pattern, value):
        return f"a value matching {pattern} ({shape_name})"
    return None


def enum_values(service: str, shape_name: str) -> list[str]:
    return list(_shape(service, shape_name).enum)


def bucket_error(value: str) -> str | None:
    if not _BUCKET.fullmatch(value) or ".." in value or _IPV4.fullmatch(value):
        return "an S3 bucket name: 3-63 lowercase letters, digits, dots or hyphens, not an IP address"
    return None


def s3_uri_error(value: str) -> str | None:
    if not value.startswith("s3://"):
        return "an s3://bucket/key URI"
    bucket, _, key = value[len("s3://") :].partition("/")
    if bucket_error(bucket):
        return f"an s3:// URI with a valid bucket name (got bucket {bucket!r})"
    if not key:
        return "an s3://bucket/key URI with a key"
    return pattern_error("sagemaker", "S3Uri", value)
