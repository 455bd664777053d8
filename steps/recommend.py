"""The pipeline's Recommend step: run Inference Recommender on the registered version,
choose, plan capacity, write `results.json`, and annotate the package.

Runs in a stock processing image: boto3 and the standard library only. The candidates
chart is drawn on the client from `results.json` (pipelines/charts/candidates.py).
    python3 -m steps.recommend --model-package-arn ARN --role-arn ARN ...
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import TextIO

from model_registry import lineage, packages
from model_registry.aws import client
from model_registry.contract import ARTIFACT_SHA256, Recommendation
from model_registry.instance_types import realtime_instance_types
from steps import endpoint_quotas, ir_job, parity_verdict, report
from steps.decision import Decision, DecisionInputs, decide, within_quota
from steps.results import document


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="steps.recommend")
    p.add_argument("--model-package-arn", required=True)
    p.add_argument("--role-arn", required=True)
    p.add_argument("--job-type", choices=["Default", "Advanced"], default="Default")
    p.add_argument("--instance-types", default="")
    p.add_argument("--omp-num-threads", default="1")
    p.add_argument("--max-latency-ms", type=float, required=True)
    p.add_argument("--latency-percentile", choices=["P95", "P99"], default="P99")
    p.add_argument("--peak-rps", type=float, required=True)
    p.add_argument("--safety-factor", type=float, required=True)
    p.add_argument("--min-instances", type=int, default=1)
    p.add_argument("--max-instances", type=int, default=1000)
    p.add_argument("--max-cost-per-inference", type=float, default=float("inf"))
    p.add_argument("--max-fleet-cost-per-hour", type=float, default=float("inf"))
    p.add_argument("--job-duration-seconds", type=int, default=7200)
    p.add_argument("--traffic-phase-seconds", type=int, default=120)
    p.add_argument("--pipeline-execution-arn", default="")
    p.add_argument("--output-dir", type=Path, required=True)
    p.add_argument("--parity-dir", type=Path, help=f"where the Parity step's {parity_verdict.FILE} is")
    return p.parse_args(argv)


def decision_inputs(args: argparse.Namespace) -> DecisionInputs:
    return DecisionInputs(
        max_latency_ms=args.max_latency_ms,
        peak_rps=args.peak_rps,
        safety_factor=args.safety_factor,
        min_instances=args.min_instances,
        max_instances=args.max_instances,
        max_cost_per_inference=args.max_cost_per_inference,
        max_fleet_cost_per_hour=args.max_fleet_cost_per_hour,
        latency_percentile=args.latency_percentile,
    )


def recommendation(decision: Decision, job_name: str) -> Recommendation | None:
    c, p = decision.choice, decision.plan
    if c is None or p is None:
        return None
    return Recommendation(
        recommendation_job_name=job_name,
        recommendation_id=c.recommendation_id,
        recommended_instance_type=c.instance_type,
        recommended_instance_count=p.instance_count,
        max_invocations_per_minute=c.max_invocations_per_minute,
        model_latency_ms=c.model_latency_ms,
        cost_per_inference=c.cost_per_inference,
        cost_per_hour=c.cost_per_hour,
        target_invocations_per_instance=p.target_invocations_per_instance,
        min_instance_count=p.min_instance_count,
        max_instance_count=max(p.max_instance_count, p.instance_count),
        environment=c.environment,
        inference_specification_name=c.inference_specification_name,
    )


def run(args: argparse.Namespace, sm, out: TextIO = sys.stdout, sleep=time.sleep, sq=None) -> Decision:
    inputs = decision_inputs(args)
    package = packages.describe(sm, args.model_package_arn)
    spec = ir_job.JobSpec(
        name=ir_job.job_name(package.group, package.version, args.job_type),
        job_type=args.job_type,
        role_arn=args.role_arn,
        model_package_arn=package.arn,
        instance_types=tuple(t for t in args.instance_types.split(",") if t),
        omp_num_threads=tuple(t for t in args.omp_num_threads.split(",") if t),
        latency_percentile=args.latency_percentile,
        max_latency_ms=int(args.max_latency_ms),
        peak_rps=args.peak_rps,
        duration_seconds=args.job_duration_seconds,
        traffic_phase_seconds=args.traffic_phase_seconds,
        specifications=tuple(sorted(package.specifications)),
    )
    ir_job.start_once(sm, spec, out)
    job = ir_job.wait(sm, spec, out, sleep=sleep)
    quotas = endpoint_quotas.read(sq or client("service-quotas"))
    # Usable types are the ones the account has endpoint quotas for; the image's botocore list is
    # consulted only when Service Quotas cannot be read (and then the gate fails on the quota).
    decision = decide(
        job, inputs, quotas.instance_types() or realtime_instance_types(), parity_verdict.dropped(args.parity_dir)
    )
    if decision.choice:
        kind = decision.choice.instance_type
        decision = within_quota(decision, endpoint_quotas.quota_name(kind), *quotas.value(kind))
    scaling = None
    if decision.choice:
        scaling = ir_job.scaling_recommendation(sm, spec.name, decision.choice.recommendation_id, inputs.peak_rps)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    doc = document(decision, job, scaling)
    (args.output_dir / "results.json").write_text(json.dumps(doc, indent=2, default=str) + "\n")
    for perf in job.get("EndpointPerformances") or []:
        m = perf.get("Metrics", {})
        print(
            f"measured: {perf.get('EndpointInfo', {}).get('EndpointName')}: {m.get('MaxInvocations')} invocations/min,"
            f" {m.get('ModelLatency')} ms",
            file=out,
        )
    print(report.table(decision), file=out)
    print(f"gate: {'passed' if decision.passed else 'failed'}: {decision.reason}", file=out)
    rec = recommendation(decision, spec.name)
    if rec is not None:
        packages.update_metadata(sm, package.arn, rec.to_properties())
    lineage.best_effort(
        "recommendation", lambda: record_lineage(sm, package, job, decision, args.pipeline_execution_arn)
    )
    return decision


def record_lineage(sm, package: packages.PackageVersion, job: dict, decision: Decision, execution_arn: str) -> None:
    """The artifact, the payload and the recommender job, linked to the package (and the execution)."""
    recorder = lineage.LineageRecorder(sm)
    sha = package.customer_metadata.get(ARTIFACT_SHA256, "")
    model = recorder.artifact(package.model_data_url, lineage.MODEL_ARTIFACT, {"sha256": sha} if sha else {})
    payload = recorder.artifact(package.sample_payload_url, lineage.SAMPLE_PAYLOAD, {})
    summary = {k: str(v) for k, v in decision.summary().items() if k not in ("environment",) and v is not None}
    ir = recorder.action(
        lineage.recommender_action_name(job["JobName"]), job["JobArn"], lineage.RECOMMENDER_JOB, "Completed", summary
    )
    target = recorder.package_artifact(package.arn)
    recorder.associate(model, target)
    recorder.associate(payload, ir)
    recorder.associate(ir, target)
    if execution_arn:
        context = recorder.context(
            lineage.execution_context_name(execution_arn), execution_arn, lineage.PIPELINE_EXECUTION
        )
        recorder.associate(target, context, "AssociatedWith")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        run(args, client("sagemaker"))
    except ir_job.JobFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
