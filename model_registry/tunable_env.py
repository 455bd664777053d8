"""The container environment a recommendation may set: thread and worker counts, nothing else.

Inference Recommender tunes a few knobs of the serving container (this project's Advanced jobs
vary OMP_NUM_THREADS). Any other variable changes what the container runs: the SageMaker
XGBoost image loads user code named by SAGEMAKER_PROGRAM and SAGEMAKER_SUBMIT_DIRECTORY, and
LD_PRELOAD loads a library into every process. The Recommend step sets a recommendation with
such a variable aside, and the deploy Lambda refuses a package whose metadata carries one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

TUNABLE = frozenset({"OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "SAGEMAKER_MODEL_SERVER_WORKERS"})
# The largest real-time instances have 192 vCPUs (the configuration's thread counts stop there too).
MAX_COUNT = 192
_COUNT = re.compile(r"[1-9][0-9]{0,2}")


def problems(env: Mapping[str, str]) -> list[str]:
    """One message per variable that is not a tunable count, naming it; empty when all are."""
    out = []
    for key, value in sorted(env.items()):
        if key not in TUNABLE:
            out.append(f"{key} is not a variable the recommender may set (allowed: {', '.join(sorted(TUNABLE))})")
        elif not (_COUNT.fullmatch(value) and int(value) <= MAX_COUNT):
            out.append(f"{key}={value!r}: expected a count from 1 to {MAX_COUNT}")
    return out
