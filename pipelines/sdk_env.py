"""Making the process ready for the SageMaker SDK, in one explicit call before its use.

Importing the SDK builds boto3 clients at module level: without a region that fails, and
without credentials botocore probes the EC2 metadata service. Building a definition needs
neither, so `get-pipeline-definition` runs offline. The import also changes the process:
one SDK module calls `logging.basicConfig(level=INFO)`, and the SDK re-validates its config
on every lookup. `prepare()` sets the environment, imports the SDK, then undoes the first and
short-cuts the second, so importing `pipelines.definition` afterwards changes nothing.
"""

from __future__ import annotations

import json
import logging
import os
import warnings

_validated_sdk_configs: set[str] = set()


def prepare(region: str, offline: bool = False) -> None:
    """Call before importing `pipelines.definition`; calling again changes nothing more."""
    os.environ.setdefault("AWS_DEFAULT_REGION", region)
    if offline:
        os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    warnings.filterwarnings("ignore", message="Running within a PipelineSession")
    # Every SDK module the definition uses, the one that calls basicConfig among them.
    import sagemaker.mlops.workflow.pipeline
    import sagemaker.serve.model_builder  # noqa: F401

    _validate_sdk_config_once_per_config()
    _quiet_sdk_logging()


def _validate_sdk_config_once_per_config() -> None:
    """The SDK re-validates its (unchanging) config against its JSON schema, re-checking the
    schema itself, on every config lookup: ~0.4 s each, ~70 per definition. Once is enough."""
    from sagemaker.core.config.config_manager import SageMakerConfig

    validate = SageMakerConfig.validate_sagemaker_config
    if getattr(validate, "once_per_config", False):
        return

    def once(sagemaker_config: dict | None = None) -> None:
        key = json.dumps(sagemaker_config, sort_keys=True, default=str)
        if key not in _validated_sdk_configs:
            validate(sagemaker_config)
            _validated_sdk_configs.add(key)

    once.once_per_config = True
    SageMakerConfig.validate_sagemaker_config = staticmethod(once)


def _quiet_sdk_logging() -> None:
    # The SDK narrates at INFO/DEBUG on stderr through loggers it configures as it imports
    # (config files it did not find, fields it pops); only its errors are worth showing.
    for name in [n for n in logging.root.manager.loggerDict if n.startswith("sagemaker")]:
        logging.getLogger(name).setLevel(logging.ERROR)
    # basicConfig(level=INFO) on import would make every library (botocore first) narrate
    # on the root logger; undo that.
    logging.getLogger().setLevel(logging.WARNING)
