"""Lineage as SageMaker keeps it: the entities it creates for model packages and endpoints,
and associations only between lineage entities (never a model package's own ARN)."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

from model_registry import lineage, packages
from tests.unit.test_registry import IMAGE, registration


@pytest.fixture
def sm(moto_aws):
    return boto3.client("sagemaker", region_name="us-east-1")


def test_a_model_package_arn_cannot_be_associated(sm):
    packages.ensure_group(sm, "rtb-bid-filter", "RTB")
    arn = packages.register_version(sm, registration())
    recorder = lineage.LineageRecorder(sm)
    context = recorder.context("endpoint-x", "arn:aws:sagemaker:us-east-1:123456789012:endpoint/x", "Endpoint")
    with pytest.raises(ClientError) as err:
        sm.add_association(SourceArn=arn, DestinationArn=context)
    error = err.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert f"Value '{arn}' at 'sourceArn' failed to satisfy constraint: Member must satisfy regular expression" \
        " pattern: arn:aws[a-z\\-]*:sagemaker:" in error["Message"]  # fmt: skip
    with pytest.raises(ClientError, match="ValidationException"):
        sm.query_lineage(StartArns=[arn])


def test_sagemaker_creates_the_package_group_context_and_package_artifacts(sm):
    group_arn = packages.ensure_group(sm, "rtb-bid-filter", "RTB")
    arn = packages.register_version(sm, registration())
    (group,) = sm.list_contexts(SourceUri=group_arn)["ContextSummaries"]
    assert group["ContextType"] == "ModelGroup"
    (artifact,) = sm.list_artifacts(SourceUri=arn)["ArtifactSummaries"]
    assert artifact["ArtifactType"] == "Model"
    assert lineage.package_artifact_of(sm, arn) == artifact["ArtifactArn"]
    into = sm.list_associations(DestinationArn=artifact["ArtifactArn"])["AssociationSummaries"]
    sources = {sm.describe_artifact(ArtifactArn=a["SourceArn"])["Source"]["SourceUri"] for a in into}
    assert sources == {IMAGE, "s3://bucket/in/model.tar.gz"}
    (to_group,) = sm.list_associations(SourceArn=artifact["ArtifactArn"])["AssociationSummaries"]
    assert to_group["DestinationArn"] == group["ContextArn"]


def test_the_recorder_reuses_sagemaker_s_entities_and_links_through_them(sm):
    packages.ensure_group(sm, "rtb-bid-filter", "RTB")
    arn = packages.register_version(sm, registration())
    recorder = lineage.LineageRecorder(sm)
    model = recorder.artifact("s3://bucket/in/model.tar.gz", lineage.MODEL_ARTIFACT, {})
    assert len(sm.list_artifacts(SourceUri="s3://bucket/in/model.tar.gz")["ArtifactSummaries"]) == 1
    target = recorder.package_artifact(arn)
    recorder.associate(model, target)
    graph = sm.query_lineage(StartArns=[target], Direction="Ascendants", IncludeEdges=True, MaxDepth=1)
    assert {"SourceArn": model, "DestinationArn": target, "AssociationType": "ContributedTo"} in graph["Edges"]
