"""The `make run` flow timed by phase: emulator start, Lambda stack, register, recommend,
gate, deploy (approval event to autoscaled endpoint), first invoke.

    .venv/bin/python -m bench.e2e [--rounds 2]
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

from pipelines.local_run import run_local

REPO = Path(__file__).resolve().parent.parent


def one_round(port: int) -> dict[str, float]:
    import os

    from model_registry.example_model import build_example_model

    example = REPO / "build" / "example"
    if not (example / "model.tar.gz").exists():
        build_example_model(example)
    with tempfile.TemporaryDirectory() as home:
        os.environ["RTB_MLOPS_EMULATOR_HOME"] = home  # a fresh emulator each round
        began = time.monotonic()
        r = run_local(
            str(REPO / "config" / "pipeline.yaml"),
            [
                f"model.artifact={example / 'model.tar.gz'}",
                f"model.sample_payload={example / 'payload.tar.gz'}",
                "approval.mode=auto",
            ],
            port,
            keep=False,
            out=io.StringIO(),
        )
        total = time.monotonic() - began
    if r.execution is None or r.execution.status != "Succeeded" or not r.predictions:
        raise SystemExit(f"the flow did not complete: {r.execution and r.execution.failure_reason}")
    steps = {s.name: s.seconds or 0.0 for s in r.execution.steps}
    pipeline_phase = r.phases["pipeline (register, recommend, gate)"]
    return {
        "emulator start": r.phases["emulator start"],
        "Lambda stack": r.phases["deploy Lambda stack"],
        "validate + upload + definition + upsert": pipeline_phase - r.execution.seconds,
        "register": steps["RegisterModel"],
        "recommend (real load test)": steps["Recommend"],
        "gate (condition + approve)": steps["ApprovalGate"] + steps["ApprovalMode"] + steps["Approve"],
        "deploy (event, Lambda, endpoint, autoscaling)": r.phases[
            "deploy (approval event, Lambda, endpoint, autoscaling)"
        ],
        "first invoke": r.phases["first invoke"],
        "total (incl. emulator stop)": total,
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--port", type=int, default=4598)
    args = p.parse_args()
    rounds = [one_round(args.port) for _ in range(args.rounds)]
    print(f"{'phase':<48}" + "".join(f"{'round ' + str(i + 1):>10}" for i in range(len(rounds))) + f"{'median':>10}")
    for phase in rounds[0]:
        values = [r[phase] for r in rounds]
        print(f"{phase:<48}" + "".join(f"{v:>9.1f}s" for v in values) + f"{statistics.median(values):>9.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
