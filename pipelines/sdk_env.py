"""What the process must hold before the SageMaker SDK is imported.

Importing the SDK builds boto3 clients at module level: without a region that fails, and
without credentials botocore probes the EC2 metadata service. Building a definition needs
neither, so `get-pipeline-definition` runs offline.
"""

from __future__ import annotations

import os
import warnings


def prepare(region: str, offline: bool = False) -> None:
    os.environ.setdefault("AWS_DEFAULT_REGION", region)
    if offline:
        os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    warnings.filterwarnings("ignore", message="Running within a PipelineSession")
