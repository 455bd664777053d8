"""An audit as text, JSON or Markdown (with a Mermaid diagram of the chain)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from model_registry.audit.evidence import Audit
from model_registry.names import specification_label


@dataclass(frozen=True)
class Node:
    key: str
    title: str
    detail: str
    bad: bool


def _short(arn: str) -> str:
    return arn.split(":", 5)[-1] if arn.startswith("arn:") else arn


def chain(a: Audit) -> tuple[list[Node], list[tuple[str, str, str]]]:
    """The chain's nodes and (from, to, label) edges, flagged where a finding points."""
    codes = {f.code for f in a.findings}
    p = a.package
    nodes = [
        Node(
            "artifact",
            "artifact",
            f"{a.artifact.uri}\nsha256 {(a.artifact.sha256_now or 'unreadable')[:12]}",
            "ARTIFACT_CHANGED" in codes or "ARTIFACT_UNVERIFIABLE" in codes,
        ),
        Node(
            "package",
            f"model package v{p.version}",
            f"{p.approval_status} by {p.approved_by or '-'}",
            "SERVES_UNAPPROVED_PACKAGE" in codes or "APPROVED_WITHOUT_PASSED_GATE" in codes,
        ),
        Node("gate", "approval gate", a.gate_decision or "no decision", "APPROVED_WITHOUT_PASSED_GATE" in codes),
    ]
    edges = [("artifact", "package", "registered"), ("gate", "package", "decided")]
    if a.recommendation is not None:
        chosen = a.recommendation.chosen
        detail = (
            f"{chosen.get('instance_type', '?')} {chosen.get('model_latency_ms', '?')} ms" if chosen else "no choice"
        )
        nodes.append(Node("recommender", f"recommender {a.recommendation.job_name}", detail, False))
        edges.append(("recommender", "gate", "evidence"))
    if a.execution is not None:
        nodes.append(Node("execution", "pipeline execution", f"{_short(a.execution.arn)}\n{a.execution.status}", False))
        edges.append(("execution", "package", "generated"))
    if a.config is not None and a.endpoint is not None:
        changed = "CONFIG_CHANGED_OUTSIDE_DEPLOY" in codes
        nodes.append(Node("model", "model", a.config.model_name, False))
        nodes.append(
            Node(
                "config",
                "endpoint config",
                f"{a.config.name}\n{a.config.instance_type} x{a.config.instance_count}",
                changed,
            )
        )
        nodes.append(
            Node("endpoint", f"endpoint {a.endpoint.name}", a.endpoint.status, "SERVES_UNAPPROVED_PACKAGE" in codes)
        )
        edges += [("package", "model", "made from"), ("model", "config", "in"), ("config", "endpoint", "serves")]
    return nodes, edges


def mermaid(a: Audit) -> str:
    nodes, edges = chain(a)
    lines = ["flowchart LR"]
    for n in nodes:
        label = f"{n.title}<br/>{n.detail}".replace("\n", "<br/>").replace('"', "'")
        lines.append(f'  {n.key}["{label}"]')
    lines += [f"  {src} -->|{label}| {dst}" for src, dst, label in edges]
    lines.append("  classDef bad fill:#fde2e2,stroke:#c0392b,stroke-width:2px")
    bad = [n.key for n in nodes if n.bad]
    if bad:
        lines.append(f"  class {','.join(bad)} bad")
    return "\n".join(lines)


def as_json(a: Audit) -> str:
    return json.dumps(a.to_dict(), indent=2)


def _findings_lines(a: Audit) -> list[str]:
    if not a.findings:
        return ["no findings: the chain is intact"]
    return [f"[{f.severity.upper()}] {f.code}: {f.message}" for f in a.findings]


def _container(a: Audit) -> str:
    """Which of the package's inference specifications serves, and its image."""
    label = specification_label(a.config.inference_specification_name if a.config else "")
    return f"{label} ({a.package.images.get(label) or 'image unknown'})"


def _facts(a: Audit) -> list[tuple[str, str]]:
    p, art = a.package, a.artifact
    rows = []
    if a.endpoint is not None and a.config is not None:
        rows += [
            ("endpoint", f"{a.endpoint.name} ({a.endpoint.status}), last modified {a.endpoint.last_modified}"),
            (
                "endpoint config",
                f"{a.config.name}: {a.config.instance_type} x{a.config.instance_count}, model {a.config.model_name}",
            ),
            ("serving container", _container(a)),
        ]
    rows += [
        ("model package", f"{p.arn} (version {p.version})"),
        (
            "approval",
            f"{p.approval_status} by {p.approved_by or '-'} at {p.approved_at or '-'}: {p.description or '-'}",
        ),
        (
            "registered",
            f"by {p.created_by or '-'} at {p.created_at}, commit {p.commit or '-'} of {p.repository or '-'}",
        ),
        (
            "pipeline execution",
            f"{a.execution.arn} {a.execution.status}" if a.execution else p.generated_by or "not recorded",
        ),
        ("gate decision", a.gate_decision or "not recorded"),
        ("artifact", art.uri),
        ("sha256 recorded", art.sha256_recorded or "not recorded"),
        ("sha256 now", art.sha256_now or art.error),
        ("golden check", a.golden_check.summary() if a.golden_check else "none recorded"),
    ]
    return rows


def _candidates(a: Audit) -> list[tuple[bool, str, str, str, str]]:
    """(chosen, instance type, latency ms, max invocations/min, USD per inference) per candidate."""
    rec = a.recommendation
    if rec is None:
        return []
    rows = [rec.chosen, *rec.alternatives]
    return [
        (
            r is rec.chosen,
            r["instance_type"],
            str(r["model_latency_ms"]),
            str(r["max_invocations_per_minute"]),
            str(r["cost_per_inference"]),
        )
        for r in rows
        if r
    ]


def as_text(a: Audit) -> str:
    out = ["FINDINGS", *(f"  {ln}" for ln in _findings_lines(a)), "", "CHAIN"]
    out += [f"  {k:<20} {v}" for k, v in _facts(a)]
    if a.execution is not None:
        out += ["", "PIPELINE STEPS"]
        out += [f"  {s.name:<24} {s.status:<10} {s.start} -> {s.end} {s.failure_reason}" for s in a.execution.steps]
    if a.recommendation is not None:
        out += ["", f"RECOMMENDER {a.recommendation.job_name} ({a.recommendation.job_status})"]
        for chosen, instance, latency, per_minute, cost in _candidates(a):
            mark = "*" if chosen else " "
            out.append(f"  {mark} {instance:<16} {latency} ms  {per_minute}/min  {cost} USD/inference")
    return "\n".join(out) + "\n"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(r) + " |" for r in rows]


def as_markdown(a: Audit) -> str:
    title = a.endpoint.name if a.endpoint else a.package.arn
    out = [f"# Audit: {title}", "", "## Findings", ""]
    out += [f"- {ln}" for ln in _findings_lines(a)]
    out += ["", "## Chain", "", "```mermaid", mermaid(a), "```", ""]
    out += _table(["link", "evidence"], [[k, v.replace("|", "/")] for k, v in _facts(a)])
    if a.execution is not None:
        out += ["", "## Pipeline execution", "", f"`{a.execution.arn}` — {a.execution.status}", ""]
        steps = [[s.name, s.status, str(s.start), str(s.end), s.failure_reason] for s in a.execution.steps]
        out += _table(["step", "status", "start", "end", "failure"], steps)
        out += ["", "Parameters: " + ", ".join(f"`{k}={v}`" for k, v in sorted(a.execution.parameters.items()))]
    if a.recommendation is not None:
        out += ["", f"## Recommender job `{a.recommendation.job_name}` ({a.recommendation.job_status})", ""]
        rows = [["chosen" if c else "", *rest] for c, *rest in _candidates(a)]
        out += _table(["", "instance", "latency ms", "max invocations/min", "USD per inference"], rows)
    return "\n".join(out) + "\n"
