"""The deploy Lambda's cold-start import time and the AWS calls it makes.

Import time is measured in fresh interpreters (what a cold Lambda pays); calls are counted
against moto for a first deploy, the InService event after it, and a duplicate approval.

    .venv/bin/python -m bench.deploy_lambda
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WRITES = ("Add", "Create", "Update", "Put", "Register", "Delete")


def import_seconds(runs: int = 7) -> list[float]:
    code = "import time; t = time.perf_counter(); import deploy_lambda.handler; print(time.perf_counter() - t)"
    out = []
    for _ in range(runs):
        r = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
        out.append(float(r.stdout))
    return out


def call_counts() -> dict[str, Counter]:
    import os
    from types import SimpleNamespace

    from moto import mock_aws
    from moto.sagemaker.responses import SageMakerResponse

    from deploy_lambda import handler as handler_module
    from emulator import moto_fixes
    from model_registry import packages
    from model_registry.contract import Recommendation
    from tests.unit.recommender_jobs import OPERATION, RecommenderJobs, job_for

    os.environ.update(
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION="us-east-1",
        ENDPOINT_NAME="rtb-bid-filter",
        MODEL_PACKAGE_GROUP_NAME="rtb-bid-filter",
        SAGEMAKER_EXECUTION_ROLE_ARN="arn:aws:iam::123456789012:role/rtb-mlops-sagemaker-execution",
        ALLOWED_INSTANCE_TYPES="ml.c5.large,ml.c6i.large",
        MAX_INSTANCES="120",
    )
    moto_fixes.apply()
    calls: Counter = Counter()
    original = handler_module.client
    counted: set[int] = set()

    def counting(service, region=None):
        # The factory hands back the same cached client on every event: hook it once.
        c = original(service, region)
        if id(c) not in counted:
            counted.add(id(c))
            c.meta.events.register("before-call.*.*", lambda model, **_: calls.update([model.name]))
        return c

    handler_module.client = counting
    fixtures = REPO / "tests" / "fixtures" / "events"
    approved = json.loads((fixtures / "model_package_approved.json").read_text())
    in_service = json.loads((fixtures / "endpoint_in_service.json").read_text())
    context = SimpleNamespace(
        invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:rtb-bid-filter-deploy"
    )
    rec = Recommendation("job", "job/1", "ml.c6i.large", 4, 46800, 2.0, 4.2e-8, 0.119, 32760, 2, 20, {})
    # moto has no Inference Recommender: the job the package names, as the API describes it.
    jobs = RecommenderJobs()
    setattr(SageMakerResponse, OPERATION, lambda response: jobs.describe(response))
    results = {}
    with mock_aws():
        sm = original("sagemaker", "us-east-1")
        packages.ensure_group(sm, "rtb-bid-filter", "bench")
        arn = sm.create_model_package(
            ModelPackageGroupName="rtb-bid-filter",
            InferenceSpecification={
                "Containers": [{"Image": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:3.0-5"}],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
        )["ModelPackageArn"]
        jobs.put(job_for(arn, rec))
        packages.update_metadata(sm, arn, {**rec.to_properties(), "gate_decision": "passed"})
        packages.set_approval(sm, arn, "Approved", "bench")
        for name, event in (
            ("first deploy", approved),
            ("InService event", in_service),
            ("duplicate approval", approved),
        ):
            calls.clear()
            handler_module.handler(event, context)
            results[name] = Counter(calls)
    return results


def main() -> int:
    seconds = import_seconds()
    print(
        f"cold import of deploy_lambda.handler: median {statistics.median(seconds) * 1000:.0f} ms"
        f" (min {min(seconds) * 1000:.0f}, max {max(seconds) * 1000:.0f}; {len(seconds)} fresh interpreters)"
    )
    for name, counter in call_counts().items():
        writes = sum(n for op, n in counter.items() if op.startswith(WRITES))
        print(f"{name:<20} {sum(counter.values()):>3} AWS calls, {writes} writes: {dict(sorted(counter.items()))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
