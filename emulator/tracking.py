"""The lineage entities SageMaker creates by itself (AWS docs, "Amazon SageMaker AI–Created
Tracking Entities"), so code that links through them can find them here as on AWS:

- a model package group: a context (ContextType `ModelGroup`, SourceUri the group's ARN);
- a model package: an artifact (ArtifactType `Model`, SourceUri the package's ARN), an
  artifact for each container's image (`Image`) and model data (`Model`), each associated
  with the package artifact, and the package artifact with its group's context;
- an endpoint: a context (ContextType `Endpoint`, SourceUri the endpoint's ARN), and for each
  create or update a `ModelDeployment` action the deployed model package / model data /
  image artifacts contribute to, associated with the endpoint's context.

SageMaker reuses an entity with the same SourceUri rather than making another; so does this.
Not made here: the trial components of jobs, and the model package creation action.
"""

from __future__ import annotations

import time
from typing import Any

from emulator.lineage import Lineage

MODEL = "Model"
IMAGE = "Image"
MODEL_GROUP = "ModelGroup"
ENDPOINT = "Endpoint"
MODEL_DEPLOYMENT = "ModelDeployment"


def _suffix() -> str:
    return str(int(time.time()))


def model_package_group(lineage: Lineage, group_arn: str, group_name: str) -> str:
    return lineage.ensure("context", group_arn, MODEL_GROUP, f"{group_name}-{_suffix()}-aws-model-package-group")


def model_package(lineage: Lineage, package: dict[str, Any], group_arn: str | None) -> str:
    """The package's artifact, with its containers' images and model data contributing to it."""
    artifact = lineage.ensure("artifact", package["ModelPackageArn"], MODEL)
    for container in (package.get("InferenceSpecification") or {}).get("Containers") or []:
        _inputs(lineage, container, artifact)
    if group_arn:
        group = lineage.find_by_source("context", group_arn)
        if group is not None:
            lineage.associate(artifact, group, "AssociatedWith")
    return artifact


def deployment(lineage: Lineage, endpoint_arn: str, endpoint_name: str, config_arn: str, models: list[dict]) -> None:
    """An endpoint's context and the deployment action of one create or update."""
    context = lineage.ensure("context", endpoint_arn, ENDPOINT, f"{endpoint_name}-{_suffix()}-aws-endpoint")
    action = lineage.create(
        "action",
        {
            "ActionName": f"{endpoint_name}-{_suffix()}-{len(lineage.entities)}-aws-model-deployment",
            "Source": {"SourceUri": config_arn},
            "ActionType": MODEL_DEPLOYMENT,
            "Status": "Completed",
        },
    )["ActionArn"]
    for model in models:
        package_arn = _package_of(model)
        if package_arn:
            lineage.associate(lineage.ensure("artifact", package_arn, MODEL), action, "ContributedTo")
        for container in [model.get("PrimaryContainer") or {}, *(model.get("Containers") or [])]:
            _inputs(lineage, container, action)
    lineage.associate(action, context, "AssociatedWith")


def _inputs(lineage: Lineage, container: dict[str, Any], into: str) -> None:
    for uri, kind in ((container.get("Image"), IMAGE), (container.get("ModelDataUrl"), MODEL)):
        if uri:
            lineage.associate(lineage.ensure("artifact", uri, kind), into, "ContributedTo")


def _package_of(model: dict[str, Any]) -> str | None:
    for container in [model.get("PrimaryContainer") or {}, *(model.get("Containers") or [])]:
        if container.get("ModelPackageName"):
            return container["ModelPackageName"]
    return None
