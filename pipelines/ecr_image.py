"""An ECR image URI, and whether the image it names exists (ECR DescribeImages).

A model package, a Model or an Inference Recommender job that names an image ECR does not
have fails only when SageMaker first pulls it (minutes later, on an instance); run-pipeline
asks ECR first, by the tag or the digest the URI carries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from botocore.client import BaseClient
from botocore.exceptions import ClientError

from model_registry.aws import client
from model_registry.errors import UserError

# ACCOUNT.dkr.ecr.REGION.amazonaws.com[.cn]/REPOSITORY(:TAG|@sha256:DIGEST) (ECR User Guide,
# "Pushing an image"; repository names and tags as CreateRepository and PutImage take them).
_URI = re.compile(
    r"(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?/"
    r"(?P<repository>(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*)"
    r"(?::(?P<tag>[a-zA-Z0-9_][a-zA-Z0-9_.-]{0,127})|@(?P<digest>sha256:[0-9a-f]{64}))"
)


class ImageMissing(UserError):
    """The configured image is not in ECR; the message names the key, the image and ECR's answer."""


@dataclass(frozen=True)
class EcrImage:
    account: str
    region: str
    repository: str
    tag: str | None
    digest: str | None

    @classmethod
    def parse(cls, uri: str) -> EcrImage:
        m = _URI.fullmatch(uri)
        if m is None:
            raise ValueError(f"expected {ecr_image_error(uri)}, got {uri!r}")
        return cls(m["account"], m["region"], m["repository"], m["tag"], m["digest"])

    @property
    def repository_arn(self) -> str:
        return f"arn:aws:ecr:{self.region}:{self.account}:repository/{self.repository}"

    def image_id(self) -> dict[str, str]:
        return {"imageDigest": self.digest} if self.digest else {"imageTag": self.tag or ""}


def ecr_image_error(uri: str) -> str | None:
    if _URI.fullmatch(uri):
        return None
    return "an ECR image URI ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPOSITORY:TAG or ...@sha256:DIGEST"


def check_exists(ecr: BaseClient, uri: str, key: str = "serving.image_uri") -> str:
    """The image's digest; ImageMissing when ECR has no such repository or image."""
    image = EcrImage.parse(uri)
    try:
        found = ecr.describe_images(
            registryId=image.account, repositoryName=image.repository, imageIds=[image.image_id()]
        )["imageDetails"]
    except ClientError as exc:
        code = exc.response["Error"]["Code"]
        if code not in ("ImageNotFoundException", "RepositoryNotFoundException"):
            raise
        raise ImageMissing(f"{key}: {uri}: {code}: {exc.response['Error'].get('Message', '')}") from None
    if not found:
        raise ImageMissing(f"{key}: {uri}: ECR DescribeImages found no such image")
    return found[0]["imageDigest"]


def require(uri: str, key: str = "serving.image_uri") -> str:
    """check_exists with an ECR client of the image's own region."""
    return check_exists(client("ecr", EcrImage.parse(uri).region), uri, key)
