"""Recording the flow in SageMaker ML Lineage Tracking, so an endpoint traces back.

Associations take only artifact, action, context, experiment and trial-component ARNs
(the API's AssociationEntityArn pattern), so a model package or an endpoint is linked through
the entity SageMaker creates for it ("Amazon SageMaker AI-Created Tracking Entities"): the
package's `Model` artifact and the endpoint's `Endpoint` context, each found by SourceUri.

    model artifact   --ContributedTo-->  package artifact  --AssociatedWith-->  pipeline execution
    sample payload   --ContributedTo-->  recommender job  --ContributedTo-->  package artifact
    recommender job  --ContributedTo-->  approval gate    --ContributedTo-->  package artifact
    package artifact --ContributedTo-->  endpoint context
    golden check     --ContributedTo-->  package artifact, endpoint context   (one per `rtb-mlops check`)

Every call is find-then-create, so a retried step or a repeated event adds nothing. What
SageMaker records itself is found and reused (it keeps one artifact per SourceUri).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from botocore.client import BaseClient
from botocore.exceptions import ClientError

log = logging.getLogger("rtb_mlops.lineage")
_NAME = re.compile(r"[^a-zA-Z0-9-]+")

MODEL_ARTIFACT = "Model"
SAMPLE_PAYLOAD = "SamplePayload"
RECOMMENDER_JOB = "InferenceRecommendationsJob"
APPROVAL_GATE = "ApprovalGate"
PIPELINE_EXECUTION = "PipelineExecution"
ENDPOINT = "Endpoint"
GOLDEN_CHECK = "GoldenRequestCheck"


def package_artifact_of(sm: BaseClient, package_arn: str) -> str | None:
    """The package's artifact, if SageMaker (or the flow) has made it; reading only."""
    found = sm.list_artifacts(SourceUri=package_arn).get("ArtifactSummaries", [])
    return found[0]["ArtifactArn"] if found else None


def entity_name(*parts: str) -> str:
    """A valid ExperimentEntityName (letters, digits, hyphens; at most 120)."""
    name = _NAME.sub("-", "-".join(parts)).strip("-")
    return re.sub("-{2,}", "-", name)[:120].rstrip("-")


def gate_action_name(group: str, version: int) -> str:
    return entity_name("gate", group, f"v{version}")


def recommender_action_name(job_name: str) -> str:
    return entity_name("recommender", job_name)


def golden_check_action_name(stamp: str, endpoint: str, version: int) -> str:
    """One action per check (the stamp first, so a long endpoint name cannot cut it off)."""
    return entity_name("golden-check", stamp, endpoint, f"v{version}")


def endpoint_context_name(endpoint: str) -> str:
    return entity_name("endpoint", endpoint)


def execution_context_name(execution_arn: str) -> str:
    pipeline, _, execution = execution_arn.split(":pipeline/", 1)[-1].partition("/execution/")
    return entity_name("pipeline", pipeline, execution)


@dataclass(frozen=True)
class LineageRecorder:
    sm: BaseClient

    def artifact(self, uri: str, artifact_type: str, properties: dict[str, str]) -> str:
        # By SourceUri alone: SageMaker may have made it already (model data, for one).
        found = self.sm.list_artifacts(SourceUri=uri).get("ArtifactSummaries", [])
        if found:
            return found[0]["ArtifactArn"]
        source: dict = {"SourceUri": uri}
        if properties.get("sha256"):
            source["SourceTypes"] = [{"SourceIdType": "Custom", "Value": properties["sha256"]}]
        return self.sm.create_artifact(
            ArtifactName=entity_name(artifact_type.lower(), uri.rsplit("/", 2)[-2] if "/" in uri else uri),
            Source=source,
            ArtifactType=artifact_type,
            Properties=properties,
        )["ArtifactArn"]

    def package_artifact(self, package_arn: str) -> str:
        """The artifact SageMaker keeps for a model package (made here only if it has none yet)."""
        return self.artifact(package_arn, MODEL_ARTIFACT, {})

    def action(self, name: str, source_uri: str, action_type: str, status: str, properties: dict[str, str]) -> str:
        try:
            return self.sm.describe_action(ActionName=name)["ActionArn"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in ("ResourceNotFound", "ValidationException"):
                raise
        return self.sm.create_action(
            ActionName=name,
            Source={"SourceUri": source_uri},
            ActionType=action_type,
            Status=status,
            Properties={k: v[:2500] for k, v in properties.items()},
        )["ActionArn"]

    def context(self, name: str, source_uri: str, context_type: str) -> str:
        found = self.sm.list_contexts(SourceUri=source_uri).get("ContextSummaries", [])
        if found:
            return found[0]["ContextArn"]
        try:
            return self.sm.describe_context(ContextName=name)["ContextArn"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in ("ResourceNotFound", "ValidationException"):
                raise
        return self.sm.create_context(ContextName=name, Source={"SourceUri": source_uri}, ContextType=context_type)[
            "ContextArn"
        ]

    def associate(self, source: str, destination: str, kind: str = "ContributedTo") -> None:
        existing = self.sm.list_associations(SourceArn=source, DestinationArn=destination).get(
            "AssociationSummaries", []
        )
        if not existing:
            self.sm.add_association(SourceArn=source, DestinationArn=destination, AssociationType=kind)

    def arn_of_action(self, name: str) -> str | None:
        try:
            return self.sm.describe_action(ActionName=name)["ActionArn"]
        except ClientError:
            return None


def best_effort(what: str, record) -> None:
    """Lineage is evidence, not a gate: a failure to record is logged loudly (the audit will
    report the missing link), never allowed to fail a deployment."""
    try:
        record()
    except ClientError as exc:
        log.warning("lineage not recorded (%s): %s", what, exc)
