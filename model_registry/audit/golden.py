"""The newest golden-request check of a package (pipelines/golden_check.py records each one as
a lineage action linked into the package's artifact), as the audit shows it."""

from __future__ import annotations

from botocore.client import BaseClient
from botocore.exceptions import ClientError

from model_registry.audit.evidence import GoldenCheckEvidence


def latest_check(sm: BaseClient, action_arns: list[str]) -> GoldenCheckEvidence | None:
    """From the check actions the package's lineage graph holds; None when there is none."""
    try:
        checks = [sm.describe_action(ActionName=arn) for arn in action_arns]
    except ClientError:
        return None
    if not checks:
        return None
    newest = max(checks, key=lambda a: a["CreationTime"])
    props = newest.get("Properties", {})
    return GoldenCheckEvidence(
        action_arn=newest["ActionArn"],
        status=newest.get("Status", ""),
        checked_at=newest["CreationTime"],
        endpoint=props.get("endpoint", ""),
        verdict=props.get("verdict", ""),
        rows=props.get("rows", ""),
        mismatched_rows=props.get("mismatched_rows", ""),
        max_abs_diff=props.get("max_abs_diff", ""),
        tolerance=props.get("tolerance", ""),
        golden_outputs_uri=props.get("golden_outputs_uri", ""),
    )
