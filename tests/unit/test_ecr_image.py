"""run-pipeline refuses a serving image ECR does not have, by tag or by digest (moto's ECR)."""

import json

import boto3
import pytest
from moto import mock_aws

from pipelines.ecr_image import EcrImage, ImageMissing, check_exists

REPO = "rtb-mlops-serving"
BASE = f"123456789012.dkr.ecr.us-east-1.amazonaws.com/{REPO}"


@pytest.fixture
def ecr():
    with mock_aws():
        client = boto3.client("ecr", region_name="us-east-1")
        client.create_repository(repositoryName=REPO)
        manifest = json.dumps(
            {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "layers": []}
        )
        digest = client.put_image(repositoryName=REPO, imageManifest=manifest, imageTag="v1")["image"]["imageId"]
        yield client, digest["imageDigest"]


def test_an_image_that_exists_by_tag_or_digest_passes(ecr):
    client, digest = ecr
    assert check_exists(client, f"{BASE}:v1") == digest
    assert check_exists(client, f"{BASE}@{digest}") == digest


@pytest.mark.parametrize(
    ("uri", "code"),
    [
        (f"{BASE}:v2", "ImageNotFoundException"),
        (f"{BASE}@sha256:{'a' * 64}", "ImageNotFoundException"),
        ("123456789012.dkr.ecr.us-east-1.amazonaws.com/other:v1", "RepositoryNotFoundException"),
    ],
)
def test_a_missing_image_is_refused_naming_the_key_and_ecrs_answer(ecr, uri, code):
    client, _ = ecr
    with pytest.raises(ImageMissing, match=rf"serving\.image_uri: .*{code}"):
        check_exists(client, uri)


def test_the_uri_gives_the_repository_arn_the_roles_are_granted_on():
    image = EcrImage.parse(f"{BASE}:v1")
    assert image.repository_arn == f"arn:aws:ecr:us-east-1:123456789012:repository/{REPO}"
    assert image.image_id() == {"imageTag": "v1"}
    with pytest.raises(ValueError, match="ECR image URI"):
        EcrImage.parse("python:3.12")
