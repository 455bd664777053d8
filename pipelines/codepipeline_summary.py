"""The summary `make run FLOW=codepipeline` prints: the SageMaker Pipeline, the model deploy
pipeline's stages and actions (status, time), the approval's message, both endpoints, the audit."""

from __future__ import annotations

import sys
from typing import TextIO

from pipelines.local_codepipeline import CodePipelineRun


def summarise_codepipeline(r: CodePipelineRun, out: TextIO = sys.stdout) -> None:
    def p(*parts: object) -> None:
        print(*parts, file=out)

    p("\n" + "=" * 78 + "\nSUMMARY (deploy.path = codepipeline)\n" + "=" * 78)
    ex = r.local.execution
    if ex is not None:
        p(f"SageMaker pipeline execution: {ex.status} ({ex.seconds:.1f} s)  {ex.arn}")
        for s in ex.steps:
            took = f"{s.seconds:6.1f} s" if s.seconds is not None else "      -"
            p(f"  {s.name:<24} {s.status:<10} {took}  {s.failure_reason}")
    if r.package_arn:
        p(f"approved package: {r.package_arn}")
    if r.execution_id:
        p(f"\nmodel deploy pipeline {r.pipeline}, execution {r.execution_id}: {r.status or 'InProgress'}")
        p(f"  {'stage':<12}{'action':<20}{'status':<12}{'time':>8}  summary")
        for a in r.actions:
            p(f"  {a.stage:<12}{a.action:<20}{a.status:<12}{a.seconds:>7.1f}s  {a.summary[:90]}")
    if r.approval_message:
        p(f"\nthe approval asked: {r.approval_message}")
    for name, e in r.endpoints.items():
        variant = (e.get("ProductionVariants") or [{}])[0]
        p(
            f"endpoint {name}: {e['EndpointStatus']}, config {e['EndpointConfigName']},"
            f" {variant.get('CurrentInstanceCount', '?')} instance(s)"
        )
    if r.audit_log:
        p("\naudit (the Audit action's build log, last lines):")
        for line in r.audit_log:
            p(f"  {line}")
    if r.failed_log:
        p("\nthe failed action's build log, last lines:")
        for line in r.failed_log:
            p(f"  {line}")
    if r.local.failure:
        p(f"\nFAILED {r.local.failure}")
    if r.local.denials:
        p(f"\nAWS would refuse {len(r.local.denials)} call(s) (the emulator's IAM, as AWS words it):")
        for message in r.local.denials:
            p(f"  AccessDenied: {message}")
    p("\ntime by phase: " + ", ".join(f"{k} {v:.1f} s" for k, v in r.local.phases.items()))


def succeeded(r: CodePipelineRun) -> bool:
    return r.status == "Succeeded" and not r.local.failure and not r.local.denials and len(r.endpoints) == 2
