"""An Inference Recommender job: its request, starting it once, and waiting for it.

The job is named after the model package version, so a retried step finds the job it
already started instead of paying for a second one.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

from botocore.client import BaseClient
from botocore.exceptions import ClientError

MAX_JOB_NAME = 64
# RecommendationJobInputConfig.EndpointConfigurations takes 1 to 10 items (API reference).
MAX_ENDPOINT_CONFIGURATIONS = 10
# Grace beyond the job's own duration before we stop it ourselves.
OVERRUN_GRACE_SECONDS = 600


class JobFailed(RuntimeError):
    """The job ended FAILED or STOPPED (or overran and was stopped); the message is AWS's reason."""


# The custom load test adds two users a second through its phase (120 s: from 1 to 241 users).
USERS_ADDED_PER_SECOND = 2


@dataclass(frozen=True)
class JobSpec:
    name: str
    job_type: str
    role_arn: str
    model_package_arn: str
    instance_types: tuple[str, ...]
    omp_num_threads: tuple[str, ...]
    latency_percentile: str
    max_latency_ms: int
    peak_rps: float
    duration_seconds: int
    traffic_phase_seconds: int
    # The package's additional inference specifications, benchmarked beside the primary one.
    specifications: tuple[str, ...] = ()

    def endpoint_configurations(self, extra: dict[str, Any]) -> list[dict[str, Any]]:
        """One per (specification, instance type): the primary specification has no name."""
        configs = [
            {"InstanceType": t, **({"InferenceSpecificationName": name} if name else {}), **extra}
            for name in ("", *self.specifications)
            for t in self.instance_types
        ]
        if len(configs) > MAX_ENDPOINT_CONFIGURATIONS:
            raise JobFailed(
                f"{len(self.instance_types)} instance types x {1 + len(self.specifications)} inference specifications"
                f" make {len(configs)} endpoint configurations; a job takes at most {MAX_ENDPOINT_CONFIGURATIONS}"
                " (recommender.instance_types)"
            )
        return configs

    def request(self) -> dict[str, Any]:
        input_config: dict[str, Any] = {
            "ModelPackageVersionArn": self.model_package_arn,
            "JobDurationInSeconds": self.duration_seconds,
        }
        req: dict[str, Any] = {
            "JobName": self.name,
            "JobType": self.job_type,
            "RoleArn": self.role_arn,
            "JobDescription": f"rtb-mlops: {self.job_type} job, {self.latency_percentile} SLA {self.max_latency_ms} ms",
            "InputConfig": input_config,
        }
        if self.job_type == "Default" and self.specifications:
            # A Default job picks its own instance types for the primary specification only; naming
            # the candidates (InstanceType and InferenceSpecificationName, nothing else) has it
            # benchmark every specification on the same types.
            input_config.update(EndpointConfigurations=self.endpoint_configurations({}))
        if self.job_type == "Advanced":
            configs = self.endpoint_configurations(
                {
                    "EnvironmentParameterRanges": {
                        "CategoricalParameterRanges": [{"Name": "OMP_NUM_THREADS", "Value": list(self.omp_num_threads)}]
                    }
                }
            )
            input_config.update(
                EndpointConfigurations=configs,
                TrafficPattern={
                    "TrafficType": "PHASES",
                    "Phases": [
                        {
                            "InitialNumberOfUsers": 1,
                            # SpawnRate is new users per minute (API reference, Phase).
                            "SpawnRate": USERS_ADDED_PER_SECOND * 60,
                            "DurationInSeconds": self.traffic_phase_seconds,
                        }
                    ],
                },
                ResourceLimit={
                    "MaxNumberOfTests": len(configs) * len(self.omp_num_threads),
                    "MaxParallelOfTests": min(10, len(configs) * len(self.omp_num_threads)),
                },
            )
            # A custom load test (our TrafficPattern) takes P95 only (API reference,
            # ModelLatencyThreshold); the gate still judges the configured percentile. No
            # MaxInvocations: it is per endpoint under test, which the fleet's peak is not, and
            # the per-instance figure is what the job is run to find.
            req["StoppingConditions"] = {
                "ModelLatencyThresholds": [{"Percentile": "P95", "ValueInMilliseconds": self.max_latency_ms}],
            }
        return req


def job_name(group: str, version: int, job_type: str) -> str:
    suffix = f"-v{version}-{job_type.lower()}"
    return group[: MAX_JOB_NAME - len(suffix)].rstrip("-") + suffix


def start_once(sm: BaseClient, spec: JobSpec, out: TextIO = sys.stdout) -> None:
    try:
        existing = sm.describe_inference_recommendations_job(JobName=spec.name)
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in ("ResourceNotFound", "ValidationException"):
            raise
    else:
        print(f"recommender job {spec.name} already exists ({existing['Status']}); following it", file=out)
        return
    sm.create_inference_recommendations_job(**spec.request())
    print(f"recommender job {spec.name} started ({spec.job_type})", file=out, flush=True)


def _benchmarks(sm: BaseClient, name: str) -> str:
    try:
        steps = sm.list_inference_recommendations_job_steps(JobName=name).get("Steps", [])
    except ClientError:
        return ""
    done = sum(s["Status"] == "COMPLETED" for s in steps)
    return f", benchmarks {done}/{len(steps)} done" if steps else ""


def wait(
    sm: BaseClient,
    spec: JobSpec,
    out: TextIO = sys.stdout,
    first_poll: float = 2.0,
    max_poll: float = 60.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """The job's final DescribeInferenceRecommendationsJob response, once COMPLETED."""
    began, delay, last = clock(), first_poll, ""
    while True:
        job = sm.describe_inference_recommendations_job(JobName=spec.name)
        status, elapsed = job["Status"], clock() - began
        line = f"{status}{_benchmarks(sm, spec.name) if status == 'IN_PROGRESS' else ''}"
        if line != last or delay >= max_poll:
            print(f"[{elapsed:7.0f}s] recommender job {spec.name}: {line}", file=out, flush=True)
            last = line
        if status == "COMPLETED":
            return job
        if status in ("FAILED", "STOPPED", "DELETED"):
            raise JobFailed(f"recommender job {spec.name} {status}: {job.get('FailureReason') or 'no reason given'}")
        if elapsed > spec.duration_seconds + OVERRUN_GRACE_SECONDS and status not in ("STOPPING",):
            sm.stop_inference_recommendations_job(JobName=spec.name)
            raise JobFailed(
                f"recommender job {spec.name} overran its {spec.duration_seconds} s duration"
                f" ({elapsed:.0f} s, still {status}); it was stopped"
            )
        sleep(delay)
        delay = min(max_poll, delay * 1.5)


def scaling_recommendation(sm: BaseClient, job: str, recommendation_id: str, peak_rps: float) -> dict[str, Any]:
    """SageMaker's own autoscaling advice for the chosen configuration, kept beside the plan."""
    try:
        resp = sm.get_scaling_configuration_recommendation(
            InferenceRecommendationsJobName=job,
            RecommendationId=recommendation_id,
            ScalingPolicyObjective={"MaxInvocationsPerMinute": math.ceil(peak_rps * 60)},
        )
    except ClientError as exc:
        return {"error": f"{exc.response['Error']['Code']}: {exc.response['Error'].get('Message', '')}"}
    resp.pop("ResponseMetadata", None)
    return resp
