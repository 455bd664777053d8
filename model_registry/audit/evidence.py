"""What an audit finds, as data: the chain from endpoint to artifact, and the findings."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class EndpointEvidence:
    name: str
    arn: str
    status: str
    config_name: str
    last_modified: datetime | None


@dataclass
class ConfigEvidence:
    name: str
    instance_type: str
    instance_count: int | None
    model_name: str
    tagged_package: str
    # The package's inference specification the model serves ("": the primary one).
    inference_specification_name: str = ""


@dataclass
class PackageEvidence:
    arn: str
    group: str
    version: int
    approval_status: str
    status: str
    approved_by: str
    approved_at: datetime | None
    description: str
    created_by: str
    created_at: datetime | None
    commit: str
    repository: str
    generated_by: str
    model_data_url: str
    sample_payload_url: str
    metadata: dict[str, str]
    # Container label (specification_label) -> image, for every inference specification.
    images: dict[str, str] = field(default_factory=dict)


@dataclass
class StepEvidence:
    name: str
    status: str
    start: datetime | None
    end: datetime | None
    failure_reason: str = ""


@dataclass
class ExecutionEvidence:
    arn: str
    status: str
    failure_reason: str
    parameters: dict[str, str]
    steps: list[StepEvidence]


@dataclass
class RecommendationEvidence:
    job_name: str
    job_status: str
    chosen: dict[str, Any]
    alternatives: list[dict[str, Any]]


@dataclass
class ArtifactEvidence:
    uri: str
    sha256_recorded: str
    sha256_now: str | None
    error: str = ""


@dataclass
class GoldenCheckEvidence:
    """The newest `rtb-mlops check` of the package (a lineage action), on whichever endpoint."""

    action_arn: str
    status: str
    checked_at: datetime | None
    endpoint: str
    verdict: str
    rows: str
    mismatched_rows: str
    max_abs_diff: str
    tolerance: str
    golden_outputs_uri: str

    def summary(self) -> str:
        return (
            f"{self.verdict or self.status} on {self.endpoint or '-'} at {self.checked_at}:"
            f" {self.mismatched_rows or '?'} of {self.rows or '?'} rows differ (max |diff| {self.max_abs_diff or '?'},"
            f" tolerance {self.tolerance or '?'})"
        )


@dataclass
class Finding:
    code: str
    severity: str
    message: str


@dataclass
class Audit:
    package: PackageEvidence
    artifact: ArtifactEvidence
    gate_decision: str
    endpoint: EndpointEvidence | None = None
    config: ConfigEvidence | None = None
    execution: ExecutionEvidence | None = None
    recommendation: RecommendationEvidence | None = None
    golden_check: GoldenCheckEvidence | None = None
    lineage_edges: list[dict[str, str]] = field(default_factory=list)
    missing_links: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        def plain(value: Any) -> Any:
            if isinstance(value, datetime):
                return value.isoformat()
            if isinstance(value, dict):
                return {k: plain(v) for k, v in value.items()}
            if isinstance(value, list):
                return [plain(v) for v in value]
            return value

        d = asdict(self)
        return plain(
            {
                "findings": d["findings"],
                "endpoint": d["endpoint"],
                "endpoint_config": d["config"],
                "model_package": d["package"],
                "pipeline_execution": d["execution"],
                "recommendation": d["recommendation"],
                "gate": {"decision": self.gate_decision},
                "artifact": d["artifact"],
                "golden_check": d["golden_check"],
                "lineage": {"edges": self.lineage_edges, "missing": self.missing_links},
            }
        )
