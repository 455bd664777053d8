"""The findings an auditor needs first: what is wrong with the chain, most serious first."""

from __future__ import annotations

from model_registry.audit.evidence import Audit, Finding
from model_registry.contract import (
    INFERENCE_SPECIFICATION_NAME,
    PASSED,
    PRIMARY_SPECIFICATION,
    RECOMMENDED_INSTANCE_COUNT,
    RECOMMENDED_INSTANCE_TYPE,
)
from model_registry.names import resource_name, specification_label


def artifact_changed(a: Audit) -> list[Finding]:
    art = a.artifact
    if not art.sha256_recorded:
        return [Finding("ARTIFACT_UNVERIFIABLE", "high", f"no sha256 was recorded at registration for {art.uri}")]
    if art.sha256_now is None:
        return [
            Finding(
                "ARTIFACT_CHANGED", "critical", f"{art.uri}: {art.error}; it cannot be matched to what was approved"
            )
        ]
    if art.sha256_now != art.sha256_recorded:
        return [
            Finding(
                "ARTIFACT_CHANGED",
                "critical",
                f"{art.uri} changed since registration:"
                f" sha256 {art.sha256_now[:16]}…, recorded {art.sha256_recorded[:16]}…",
            )
        ]
    return []


def serves_unapproved(a: Audit) -> list[Finding]:
    if a.endpoint is not None and a.package.approval_status != "Approved":
        return [
            Finding(
                "SERVES_UNAPPROVED_PACKAGE",
                "critical",
                f"endpoint {a.endpoint.name} serves {a.package.arn}, which is {a.package.approval_status}",
            )
        ]
    return []


def config_changed(a: Audit) -> list[Finding]:
    if a.endpoint is None or a.config is None:
        return []
    expected = resource_name(a.endpoint.name, a.package.group, a.package.version)
    problems = []
    if a.config.name != expected:
        problems.append(f"config {a.config.name} is not the deploy path's {expected}")
    if a.config.tagged_package != a.package.arn:
        problems.append(f"config is tagged for {a.config.tagged_package or 'no package'}")
    planned = (
        a.package.metadata.get(RECOMMENDED_INSTANCE_TYPE),
        a.package.metadata.get(RECOMMENDED_INSTANCE_COUNT),
    )
    actual = (a.config.instance_type, str(a.config.instance_count))
    if planned[0] and planned != actual:
        problems.append(f"it runs {actual[0]} x{actual[1]}, the recommendation was {planned[0]} x{planned[1]}")
    recommended = a.package.metadata.get(INFERENCE_SPECIFICATION_NAME)
    if recommended is not None:
        name = "" if recommended == PRIMARY_SPECIFICATION else recommended
        if name != a.config.inference_specification_name:
            problems.append(
                f"its model serves {specification_label(a.config.inference_specification_name)}, the recommendation"
                f" was {specification_label(name)}"
            )
    if not problems:
        return []
    return [
        Finding(
            "CONFIG_CHANGED_OUTSIDE_DEPLOY",
            "high",
            "endpoint configuration changed outside the deploy path: " + "; ".join(problems),
        )
    ]


def approved_without_gate(a: Audit) -> list[Finding]:
    if a.package.approval_status == "Approved" and a.gate_decision != PASSED:
        shown = a.gate_decision or "no gate decision recorded"
        return [
            Finding(
                "APPROVED_WITHOUT_PASSED_GATE",
                "high",
                f"{a.package.arn} is Approved (by {a.package.approved_by or 'unknown'}) but the gate says: {shown}",
            )
        ]
    return []


def golden_check_failed(a: Audit) -> list[Finding]:
    """The package's newest golden-request check failed: its endpoint answered otherwise than
    the artifact did at registration (changed artifact, container, or serving code)."""
    check = a.golden_check
    if check is None or check.verdict != "failed":
        return []
    return [Finding("GOLDEN_CHECK_FAILED", "high", f"the newest golden-request check {check.summary()}")]


def missing_lineage(a: Audit) -> list[Finding]:
    return [Finding("MISSING_LINEAGE", "medium", f"lineage link missing: {link}") for link in a.missing_links]


RULES = (
    artifact_changed,
    serves_unapproved,
    config_changed,
    approved_without_gate,
    golden_check_failed,
    missing_lineage,
)
_ORDER = {"critical": 0, "high": 1, "medium": 2}


def evaluate(a: Audit) -> Audit:
    a.findings = sorted((f for rule in RULES for f in rule(a)), key=lambda f: _ORDER[f.severity])
    return a
