"""`registry history`: one row per version — status, who and when, the gate's decision, the
recommended configuration, and where the version is or was deployed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from botocore.client import BaseClient
from botocore.exceptions import ClientError

from model_registry import lineage, packages
from model_registry.contract import GATE_DECISION, RECOMMENDED_INSTANCE_COUNT, RECOMMENDED_INSTANCE_TYPE
from model_registry.endpoints import package_of_model


@dataclass(frozen=True)
class VersionRow:
    version: int
    status: str
    by: str
    when: datetime | None
    gate: str
    recommended: str
    deployed: str


def _serving(sm: BaseClient) -> dict[str, str]:
    """Model package ARN -> the endpoints serving it now."""
    out: dict[str, list[str]] = {}
    for page in sm.get_paginator("list_endpoints").paginate():
        for e in page["Endpoints"]:
            try:
                config = sm.describe_endpoint_config(
                    EndpointConfigName=sm.describe_endpoint(EndpointName=e["EndpointName"])["EndpointConfigName"]
                )
                model = sm.describe_model(ModelName=config["ProductionVariants"][0]["ModelName"])
            except ClientError:
                continue
            arn = package_of_model(model)
            if arn:
                out.setdefault(arn, []).append(e["EndpointName"])
    return {k: ", ".join(v) for k, v in out.items()}


def _was_deployed(sm: BaseClient, arn: str) -> str:
    """Endpoints the package was deployed to, from its lineage: the deploy links the package's
    artifact to each endpoint's context, whose SourceUri is the endpoint's ARN."""
    try:
        artifact = lineage.package_artifact_of(sm, arn)
        if artifact is None:
            return ""
        found = sm.list_associations(SourceArn=artifact, DestinationType="Endpoint").get("AssociationSummaries", [])
        uris = {sm.describe_context(ContextName=a["DestinationArn"])["Source"]["SourceUri"] for a in found}
    except ClientError:
        return ""
    return ", ".join(sorted(uri.rsplit("/", 1)[-1] for uri in uris))


def history(sm: BaseClient, group: str) -> list[VersionRow]:
    serving = _serving(sm)
    rows = []
    for summary in packages.list_versions(sm, group):
        p = packages.describe(sm, summary.arn)
        m = p.customer_metadata
        decided = p.approval_status != packages.PENDING
        recommended = (
            f"{m[RECOMMENDED_INSTANCE_TYPE]} x{m.get(RECOMMENDED_INSTANCE_COUNT, '?')}"
            if m.get(RECOMMENDED_INSTANCE_TYPE)
            else "-"
        )
        if p.arn in serving:
            deployed = f"serving: {serving[p.arn]}"
        else:
            was = _was_deployed(sm, p.arn)
            deployed = f"was on: {was}" if was else "-"
        rows.append(
            VersionRow(
                version=p.version,
                status=p.approval_status,
                by=(p.last_modified_by or p.created_by) if decided else p.created_by,
                when=(p.last_modified_time or p.creation_time) if decided else p.creation_time,
                gate=m.get(GATE_DECISION, "-"),
                recommended=recommended,
                deployed=deployed,
            )
        )
    return rows
