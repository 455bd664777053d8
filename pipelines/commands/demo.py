"""`rtb-mlops demo`: the whole flow on the embedded emulator, then a summary (`make run`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from model_registry.errors import UserError
from model_registry.names import specification_label
from pipelines.commands.common import add_config_flags

# The Recommend step writes results.json only (it runs with boto3 alone); the chart is drawn here.
CHART = Path("build/demo/recommender-candidates.png")


def add(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="run the whole flow on the embedded emulator and summarise it")
    add_config_flags(p)
    p.add_argument("--artifact", help="model.tar.gz (default: the example model, built if missing)")
    p.add_argument("--payload", help="sample payload tar.gz, or a CSV of rows")
    p.add_argument("--port", type=int, default=4599)
    p.add_argument("--keep", action="store_true", help="leave the emulator and the endpoint serving")
    p.add_argument(
        "--flow",
        choices=["lambda", "codepipeline"],
        default="lambda",
        help="who deploys the approval: the deploy Lambda, or the model deploy CodePipeline (staging, a person)",
    )
    p.set_defaults(func=run)


def _inputs(args: argparse.Namespace) -> tuple[str, str]:
    if args.artifact:
        if not args.payload:
            raise UserError("--artifact needs --payload (rows the model scores)")
        return args.artifact, args.payload
    example = Path("build/example")
    if not (example / "model.tar.gz").exists():
        from model_registry.example_model import build_example_model

        build_example_model(example)
    return str(example / "model.tar.gz"), args.payload or str(example / "payload.tar.gz")


def run(args: argparse.Namespace) -> int:
    from pipelines.local_run import run_local

    artifact, payload = _inputs(args)
    overrides = [*args.overrides, f"model.artifact={artifact}", f"model.sample_payload={payload}", "approval.mode=auto"]
    if args.flow == "codepipeline":
        return _codepipeline(args, overrides)
    result = run_local(args.config, overrides, args.port, args.keep)
    if result.results:
        from pipelines.charts.candidates import write_candidates_chart

        write_candidates_chart(result.results, CHART)
    summarise(result, args.keep)
    ok = (
        result.execution is not None
        and result.execution.status == "Succeeded"
        and bool(result.predictions)
        and not result.denials
    )
    return 0 if ok else 1


def _codepipeline(args: argparse.Namespace, overrides: list[str]) -> int:
    from pipelines.codepipeline_summary import succeeded, summarise_codepipeline
    from pipelines.local_codepipeline import run_codepipeline

    result = run_codepipeline(args.config, overrides, args.port, args.keep)
    summarise_codepipeline(result)
    return 0 if succeeded(result) else 1


def summarise(r, keep: bool, out=sys.stdout) -> None:
    def p(*parts: object) -> None:
        print(*parts, file=out)

    p("\n" + "=" * 78 + "\nSUMMARY\n" + "=" * 78)
    if r.execution is not None:
        p(f"pipeline execution: {r.execution.status}  ({r.execution.seconds:.1f} s)  {r.execution.arn}")
        for s in r.execution.steps:
            took = f"{s.seconds:6.1f} s" if s.seconds is not None else "      -"
            p(f"  {s.name:<24} {s.status:<10} {took}  {s.failure_reason}")
        if r.execution.failure_reason:
            p(f"  reason: {r.execution.failure_reason}")
    if r.results:
        _recommendation(r.results, r.measurements, p)
    if r.failure:
        p(f"\nFAILED {r.failure}")
    if r.denials:
        p(f"\nAWS would refuse {len(r.denials)} call(s) (the emulator's IAM, as AWS words it):")
        for message in r.denials:
            p(f"  AccessDenied: {message}")
    if r.endpoint:
        e, variant = r.endpoint, (r.endpoint.get("ProductionVariants") or [{}])[0]
        p(f"\nendpoint: {e['EndpointName']} {e['EndpointStatus']}, config {e['EndpointConfigName']}")
        p(f"  serving container: {r.container}")
        p(
            f"  {variant.get('CurrentInstanceCount', '?')} instance(s) planned"
            " (the emulator runs up to RTB_MLOPS_EMULATOR_MAX_LOCAL_INSTANCES local servers for them)"
        )
        p(
            f"  autoscaling: min {r.scaling['min']}, max {r.scaling['max']},"
            f" target {r.scaling['target']:.0f} invocations/instance/min"
        )
    if r.predictions:
        p("\npredictions (first rows of the sample payload):")
        for row, score in zip(r.rows, r.predictions, strict=False):
            p(f"  {row:<40} -> {score}")
        again = f".venv/bin/rtb-mlops invoke --endpoint {r.endpoint['EndpointName']} --body '{r.rows[0]}'"
        p("\ncall it again:")
        if keep:
            p('  eval "$(.venv/bin/rtb-mlops emulator status | grep export)"')
            p(f"  {again}")
        else:
            p(f"  make run KEEP=1, then: {again}")
    p("\ntime by phase: " + ", ".join(f"{k} {v:.1f} s" for k, v in r.phases.items()))


def _recommendation(results: dict, measurements: dict, p) -> None:
    job, candidates, inputs = results.get("job", {}), results["candidates"], results["inputs"]
    p(
        f"\nrecommender job {job.get('name')} ({job.get('type')}): {candidates['total']} candidates,"
        f" {candidates['within_sla']} within the {inputs['max_latency_ms']:g} ms {inputs['latency_percentile']} SLA"
    )
    for m in measurements.get("measurements", []):
        chosen = m["chosen"]
        p(
            f"  measured on this machine: {specification_label(m.get('inference_specification', ''))}"
            f" ({m.get('server', '?')} server, 1 worker, {chosen['tool']}, env {m['environment'] or '{}'}):"
            f" {chosen['rps'] * 60:,.0f} requests/min at {chosen['connections']} connections,"
            f" p50 {chosen['P50']:.2f} ms, p95 {chosen['P95']:.2f} ms, p99 {chosen['P99']:.2f} ms"
        )
    if measurements:
        p(f"  other instance types are projections: {measurements.get('projection')}")
    p(f"  {'container':<16}{'instance':<16}{'env':<22}{'latency ms':>11}{'max inv/min':>13}{'USD/1M inf':>12}")
    for c in candidates["items"]:
        mark = "*" if c["recommendation_id"] == results["choice"]["recommendation_id"] else " "
        env = " ".join(f"{k}={v}" for k, v in c["environment"].items()) or "-"
        where = f"{mark} {c.get('container', '?'):<16}{c['instance_type']:<16}{env:<22}"
        if c["excluded_reason"]:
            p(f"{where}  excluded: {c['excluded_reason']}")
            continue
        figures = (
            f"{c['model_latency_ms']:>11g}{c['max_invocations_per_minute']:>13,}{c['cost_per_inference'] * 1e6:>12.4f}"
        )
        p(f"{where}{figures}")
    _containers(results, p)
    plan, choice = results["plan"], results["choice"]
    if choice["chosen"]:
        p(
            f"  choice: {choice['container']} on {choice['instance_type']} x{plan['instance_count']},"
            f" target {plan['target_invocations_per_instance']}/min per instance,"
            f" {plan['fleet_cost_per_hour']:.2f} USD/h at peak"
        )
    else:
        p("  choice: none")
    p(f"  gate: {'passed' if results['gate']['passed'] else 'failed'}: {results['gate']['reason']}")
    p(f"  chart: {CHART}")


def _containers(results: dict, p) -> None:
    """Each container's cheapest configuration within the SLA, and the measured cost ratio."""
    section = results.get("containers") or {}
    for b in section.get("items", []):
        cost = b["best_cost_per_inference"]
        best = (
            f"{cost * 1e6:.4f} USD per million inferences on {b['best_instance_type']}"
            if cost
            else "none within the SLA"
        )
        aside = f"  (set aside: {b['set_aside']})" if b["set_aside"] else ""
        p(f"  {b['container']:<16} best: {best}{aside}")
    ratio = section.get("stock_cost_over_chosen")
    if ratio:
        p(
            f"  measured cost ratio: the stock container's best costs {ratio:.1f}x the chosen"
            f" {section['chosen']}'s per inference, at the same SLA"
        )
    elif section.get("chosen"):
        p("  measured cost ratio: none (the stock container has no configuration within the SLA)")
