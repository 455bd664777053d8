"""SageMaker's real-time instance types, from the API model botocore ships.

The configuration accepts only these as candidates, the Recommend step sets aside a
recommendation naming another, and the emulator refuses an endpoint config with another, as
AWS does (moto's own list is out of date). Read once per process: the model is large.
"""

from __future__ import annotations

import functools

import botocore.session


@functools.cache
def realtime_instance_types() -> frozenset[str]:
    model = botocore.session.get_session().get_service_model("sagemaker")
    return frozenset(model.shape_for("ProductionVariantInstanceType").enum)
