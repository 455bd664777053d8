"""`rtb-mlops recommend --job-json FILE ...`: the Recommend step's decision, offline.

Reads a saved DescribeInferenceRecommendationsJob response and prints one JSON object.
Exit status 0 when a candidate passes, 1 when none does, 2 for a usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from model_registry.errors import UserError


def add(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("recommend", help="choose and plan from a saved Inference Recommender job (offline)")
    p.add_argument("--job-json", type=Path, required=True, help="a DescribeInferenceRecommendationsJob response")
    p.add_argument("--max-latency-ms", type=float, required=True)
    p.add_argument("--peak-rps", type=float, required=True, help="peak requests per second to plan for")
    p.add_argument("--safety-factor", type=float, required=True, help="fraction of measured max throughput, (0, 1]")
    p.add_argument("--min-instances", type=int, default=1)
    p.add_argument("--max-instances", type=int, default=1000)
    p.add_argument("--max-cost-per-inference", type=float, default=float("inf"))
    p.add_argument("--max-fleet-cost-per-hour", type=float, default=float("inf"))
    p.add_argument("--latency-percentile", choices=["P95", "P99"], default="P99")
    p.add_argument(
        "--parity-dir",
        type=Path,
        help="a folder with the Parity step's parity.json (a failed verdict drops the fast container)",
    )
    p.add_argument("--table", action="store_true", help="also print the candidates table on stderr")
    p.add_argument("--chart", type=Path, help="write the candidates chart (PNG) here")
    p.set_defaults(func=run)


def _read_job(path: Path) -> dict:
    try:
        job = json.loads(path.read_text())
    except OSError as exc:
        raise UserError(f"{path}: cannot read: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}: not JSON: {exc}") from None
    if not isinstance(job, dict):
        raise UserError(f"{path}: expected a DescribeInferenceRecommendationsJob response object")
    if job.get("Status") not in (None, "COMPLETED"):
        raise UserError(f"{path}: job status is {job.get('Status')}, not COMPLETED: {job.get('FailureReason', '')}")
    return job


def run(args: argparse.Namespace) -> int:
    from model_registry.instance_types import realtime_instance_types
    from steps import parity_verdict, report
    from steps.decision import decide
    from steps.recommend import decision_inputs

    job = _read_job(args.job_json)
    decision = decide(job, decision_inputs(args), realtime_instance_types(), parity_verdict.dropped(args.parity_dir))
    if args.table:
        print(report.table(decision), file=sys.stderr)
    if args.chart:
        # Drawn from the document the Recommend step writes, as the local flow draws it.
        from pipelines.charts.candidates import write_candidates_chart
        from steps.results import document

        write_candidates_chart(document(decision, job), args.chart)
    print(json.dumps(decision.summary(), indent=2))
    return 0 if decision.passed else 1
