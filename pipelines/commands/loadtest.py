"""`rtb-mlops loadtest --endpoint NAME --report DIR`: load the endpoint along a profile derived
from its plan (or --peak-rps), and judge whether its fleet scaled out in time and held the SLA.

Prints one line per verdict reason; exit status 0 when the verdict passes, 1 when it fails
(so a CodePipeline stage can run it), 2 for a usage error.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from pipelines.commands.common import add_config_flags, load

# 75 minutes of AWS time: 22.5 steady (an idle fleet scales in after 15), 22.5 at the peak,
# 30 after it. Against the emulator, divided by its clock's compression (150 s at x30).
DEFAULT_AWS_SECONDS = 4500.0
# What this 2-core machine sends through Locust and the emulator while both keep the SLA; more
# needs Locust's distributed mode (and a machine that serves it).
DEFAULT_MAX_RPS = 150.0


def add(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("loadtest", help="load-test an endpoint's autoscaling and latency (Locust)")
    p.add_argument("--endpoint", required=True)
    p.add_argument("--profile", choices=["step", "ramp", "spike"], default="step")
    p.add_argument("--peak-rps", type=float, help="peak requests/s (default: what the planned fleet holds at target)")
    p.add_argument(
        "--base-rps", type=float, help="requests/s before and after the peak (default: one instance's target)"
    )
    p.add_argument(
        "--duration",
        type=float,
        help=f"seconds (default {DEFAULT_AWS_SECONDS:g}, divided by the emulator's clock compression)",
    )
    p.add_argument("--max-rps", type=float, default=DEFAULT_MAX_RPS, help="bound on the rate sent from here")
    p.add_argument("--sla-ms", type=float, help="p99 model latency SLA (default: recommender.max_latency_ms)")
    p.add_argument("--grace-seconds", type=float, default=10.0, help="how long p99 may exceed the SLA")
    p.add_argument("--max-error-rate", type=float, default=0.001, help="fraction of requests that may fail")
    p.add_argument("--report", type=Path, required=True, help="folder for report.json and loadtest.png")
    p.add_argument("--locust-workers", type=int, default=0, help="Locust workers to wait for (distributed mode)")
    p.add_argument("--locust-master-host", default="127.0.0.1", help="address the Locust master listens on")
    p.add_argument("--locust-master-port", type=int, default=5557, help="port the Locust master listens on")
    p.add_argument("--region")
    add_config_flags(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from model_registry.aws import client
    from pipelines.charts.loadtest import write_loadtest_chart
    from pipelines.loadtest import profile, runner, target
    from pipelines.loadtest.verdict import Criteria

    sla = args.sla_ms if args.sla_ms is not None else load(args).recommender.max_latency_ms
    sm = client("sagemaker", args.region)
    under_test = target.read(sm, client("application-autoscaling", args.region), args.endpoint)
    environment = runner.environment_notes()
    # Against an emulator modelling the fleet 1:N, each request sent stands for N.
    traffic = float(environment.get("traffic_scale", 1))
    seconds = args.duration or DEFAULT_AWS_SECONDS / float(environment.get("time_scale", 1))
    base = args.base_rps or under_test.target_rps
    peak = args.peak_rps or under_test.planned_peak_rps
    shape = profile.build(args.profile, min(base, peak) / traffic, peak / traffic, seconds, args.max_rps)
    rows = target.sample_rows(client("s3", args.region), under_test.sample_payload_url)
    criteria = Criteria(sla_ms=sla, grace_seconds=args.grace_seconds, max_error_rate=args.max_error_rate)
    if traffic > 1:
        print(f"note: the emulator models the fleet 1:{traffic:g}; each request sent stands for {traffic:g}")
    if shape.scaled_by < 1:
        print(
            f"note: the profile's peak of {peak / traffic:,.0f} requests/s is above --max-rps {args.max_rps:g};"
            f" sending {shape.scaled_by:.4f} of each rate (Locust's distributed mode sends more, see README)"
        )
    clients = runner.Clients(sm=sm, cw=client("cloudwatch", args.region))
    spread = runner.Distribution(args.locust_workers, args.locust_master_host, args.locust_master_port)
    report = runner.run(clients, under_test, shape, rows, criteria, args.report, spread, environment)
    args.report.mkdir(parents=True, exist_ok=True)
    (args.report / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    write_loadtest_chart(report, args.report / "loadtest.png")
    for reason in report["verdict"]["reasons"]:
        print(reason)
    print(f"report: {args.report / 'report.json'}, chart: {args.report / 'loadtest.png'}")
    return 0 if report["verdict"]["passed"] else 1
