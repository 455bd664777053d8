"""The emulator's local stand-in for the fast serving image in ECR.

On AWS, buildspec.yml STAGE=image builds serving/'s image and pushes it to ECR, and
`serving.image_uri` names it. Here nothing is pushed: the emulator's ECR holds one image
record under this name, whose manifest says it is a stand-in, so run-pipeline's image check
(ECR DescribeImages) has a real answer to read. What serves the fast specification locally
is serving/ itself (emulator.spec_servers), not a container.
"""

from __future__ import annotations

import json

from moto.ecr.models import ecr_backends

REPOSITORY = "rtb-mlops-serving"
TAG = "local-stand-in"
_MANIFEST = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 2, "digest": "sha256:" + "0" * 64},
    "layers": [],
    "annotations": {
        "org.opencontainers.image.title": "rtb-mlops serving (local stand-in)",
        "org.opencontainers.image.description": "emulator record standing in for the image buildspec.yml"
        " STAGE=image builds; the emulator serves serving/ for it",
    },
}


def uri(account: str, region: str) -> str:
    return f"{account}.dkr.ecr.{region}.amazonaws.com/{REPOSITORY}:{TAG}"


def publish(account: str, region: str) -> None:
    """Creates the repository and the stand-in image record in the emulator's ECR (once)."""
    backend = ecr_backends[account][region]
    if REPOSITORY not in backend.repositories:
        backend.create_repository(REPOSITORY, None, {}, {"scanOnPush": True}, "IMMUTABLE", [])
    if not any(TAG in (image.image_tags or []) for image in backend.repositories[REPOSITORY].images):
        backend.put_image(REPOSITORY, json.dumps(_MANIFEST), TAG, _MANIFEST["mediaType"])
