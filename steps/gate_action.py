"""The approval gate's actions on the model package, run as pipeline steps.

    approve: the gate passed in auto mode; record `gate_decision`, then approve
    hold:    the gate passed in manual mode; record it and leave the package pending
    reject:  the gate failed; record why and reject the package

`gate_decision` (and the gate's lineage) is written before the approval, so the deploy
Lambda that the approval event triggers always finds it. The gate only moves a package out of
PendingManualApproval: a retried step, or a package a person already decided on, is left
as it is, so no second approval event is emitted and no human decision is overridden.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from model_registry import lineage, packages
from model_registry.aws import client
from model_registry.contract import GATE_DECISION, PASSED, RECOMMENDATION_JOB_NAME, metadata_text

ACTIONS = {"approve": packages.APPROVED, "hold": packages.PENDING, "reject": packages.REJECTED}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="steps.gate_action")
    p.add_argument("--action", choices=sorted(ACTIONS), required=True)
    p.add_argument("--model-package-arn", required=True)
    p.add_argument("--results-dir", type=Path, required=True)
    return p.parse_args(argv)


def read_gate(results_dir: Path) -> dict:
    path = results_dir / "results.json"
    try:
        return json.loads(path.read_text())["gate"]
    except (OSError, ValueError, KeyError) as exc:
        raise SystemExit(f"error: {path}: cannot read the gate's results: {exc}") from None


def describe_action(action: str, gate: dict) -> tuple[str, str]:
    """(gate_decision value, approval description)."""
    reason = gate.get("reason") or "no reason recorded"
    if action == "reject":
        failure = gate.get("failure_reason") or reason
        return metadata_text(f"failed: {failure}"), f"Rejected by the approval gate: {failure}"
    if action == "approve":
        return PASSED, f"Approved by the approval gate (auto mode): {reason}"
    return PASSED, f"Approval gate passed; waiting for a person to approve: {reason}"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    gate = read_gate(args.results_dir)
    decision, description = describe_action(args.action, gate)
    sm = client("sagemaker")
    target = ACTIONS[args.action]
    current = packages.describe(sm, args.model_package_arn)
    packages.update_metadata(sm, current.arn, {GATE_DECISION: decision})
    lineage.best_effort("gate decision", lambda: record_lineage(sm, current, args.action, decision, description))
    if current.approval_status != packages.PENDING:
        print(f"{current.arn} is already {current.approval_status}; the gate leaves a decided package as it is")
        return 0
    if target == packages.PENDING and current.approval_description == description:
        print(f"{current.arn} already waits for manual approval")
        return 0
    packages.set_approval(sm, current.arn, target, description)
    print(f"{current.arn}: {target} ({GATE_DECISION}={decision})")
    return 0


def record_lineage(sm, package: packages.PackageVersion, action: str, decision: str, description: str) -> None:
    recorder = lineage.LineageRecorder(sm)
    gate = recorder.action(
        lineage.gate_action_name(package.group, package.version),
        package.arn,
        lineage.APPROVAL_GATE,
        "Completed" if decision == PASSED else "Failed",
        {"action": action, GATE_DECISION: decision, "description": description},
    )
    recorder.associate(gate, recorder.package_artifact(package.arn))
    job = package.customer_metadata.get(RECOMMENDATION_JOB_NAME)
    ir = recorder.arn_of_action(lineage.recommender_action_name(job)) if job else None
    if ir:
        recorder.associate(ir, gate)


if __name__ == "__main__":
    sys.exit(main())
