"""Inference Recommender jobs (state and API) that measure for real, on this machine.

A job downloads the package's artifact and sample payload and, for each candidate inference
specification and environment, has `measurement` load-test that specification's server on
127.0.0.1: the stock XGBoost image's request path for the primary specification, serving/ for
the project's image (emulator.model_servers.server_kind). The measurement becomes the job's
`EndpointPerformances` (named for this machine); every instance type's recommendation is a
projection of it, said so in its endpoint name and in the measurements JSON the job writes
beside the sample payload.

`EndpointConfigurations[].InferenceSpecificationName` names an additional specification of
the package (none: the primary one); the recommendation carries it in
`ModelConfiguration.InferenceSpecificationName`, as the API reference shapes it. The emulator
honours EndpointConfigurations in Default jobs too (instance types and specifications only).
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from moto.core.utils import utcnow
from moto.sagemaker.models import sagemaker_backends

from emulator import prices
from emulator.context import Context
from emulator.iam import on_behalf
from emulator.iam.policy import Check
from emulator.model_servers import server_kind
from emulator.protocol import ApiError, not_found, operation, validation
from emulator.recommender.measurement import Measurement, Served, measure, project, report
from model_registry.artifact.tarball import read_members
from model_registry.names import VARIANT
from model_registry.packages import specification_container

log = logging.getLogger("rtb_mlops.emulator")


@dataclass
class Job:
    request: dict[str, Any]
    arn: str
    status: str = "PENDING"
    created: Any = field(default_factory=utcnow)
    modified: Any = field(default_factory=utcnow)
    completed: Any = None
    failure_reason: str = ""
    steps: list[dict[str, Any]] = field(default_factory=list)
    recommendations: list[dict[str, Any]] = field(default_factory=list)
    performances: list[dict[str, Any]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def set(self, status: str, reason: str = "") -> None:
        self.status, self.modified = status, utcnow()
        if reason:
            self.failure_reason = reason
        if status in ("COMPLETED", "FAILED", "STOPPED"):
            self.completed = self.modified

    def describe(self) -> dict[str, Any]:
        r = self.request
        out = {
            "JobName": r["JobName"],
            "JobType": r["JobType"],
            "JobArn": self.arn,
            "RoleArn": r["RoleArn"],
            "Status": self.status,
            "CreationTime": self.created,
            "LastModifiedTime": self.modified,
            "InputConfig": r["InputConfig"],
        }
        optional = {
            "JobDescription": r.get("JobDescription"),
            "StoppingConditions": r.get("StoppingConditions"),
            "CompletionTime": self.completed,
            "FailureReason": self.failure_reason,
            "InferenceRecommendations": self.recommendations,
            "EndpointPerformances": self.performances,
        }
        out.update({k: v for k, v in optional.items() if v})
        return out


class Recommender:
    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.jobs: dict[str, Job] = {}

    @property
    def backend(self):
        return sagemaker_backends[self.ctx.account][self.ctx.region]

    # --- API -------------------------------------------------------------------------------
    @operation("SageMaker.CreateInferenceRecommendationsJob")
    def create(self, params: dict[str, Any]) -> dict[str, Any]:
        name = params["JobName"]
        if name in self.jobs:
            raise ApiError("ResourceInUse", f"Inference recommendations job {name} already exists.")
        _check_custom_load_test(params)
        arn_in = (params.get("InputConfig") or {}).get("ModelPackageVersionArn")
        if not arn_in:
            raise validation(
                "InputConfig.ModelPackageVersionArn is required by the emulator (ModelName jobs are not emulated)."
            )
        try:
            package = self.backend.describe_model_package(arn_in).gen_response_object()
        except Exception:
            raise validation(f"Model package {arn_in} does not exist.") from None
        if not package.get("SamplePayloadUrl"):
            raise validation(
                f"Model package {arn_in} has no SamplePayloadUrl; Inference Recommender needs a sample payload."
            )
        _check_specification_names(params, package)
        arn = f"arn:aws:sagemaker:{self.ctx.region}:{self.ctx.account}:inference-recommendations-job/{name.lower()}"
        job = Job(request=params, arn=arn)
        self.jobs[name] = job
        threading.Thread(target=self._run, args=(job, package), daemon=True).start()
        return {"JobArn": arn}

    def _job(self, name: str) -> Job:
        if name not in self.jobs:
            raise not_found(f"Inference recommendations job {name}")
        return self.jobs[name]

    @operation("SageMaker.DescribeInferenceRecommendationsJob")
    def describe(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._job(params["JobName"]).describe()

    @operation("SageMaker.ListInferenceRecommendationsJobSteps")
    def list_steps(self, params: dict[str, Any]) -> dict[str, Any]:
        steps = self._job(params["JobName"]).steps
        if params.get("Status"):
            steps = [s for s in steps if s["Status"] == params["Status"]]
        return {"Steps": steps}

    @operation("SageMaker.StopInferenceRecommendationsJob")
    def stop(self, params: dict[str, Any]) -> dict[str, Any]:
        job = self._job(params["JobName"])
        if job.status in ("PENDING", "IN_PROGRESS"):
            job.set("STOPPING")
            job.stop.set()
        return {}

    @operation("SageMaker.GetScalingConfigurationRecommendation")
    def scaling(self, params: dict[str, Any]) -> dict[str, Any]:
        job = self._job(params["InferenceRecommendationsJobName"])
        rec = next((r for r in job.recommendations if r["RecommendationId"] == params.get("RecommendationId")), None)
        if rec is None:
            raise validation(f"Recommendation {params.get('RecommendationId')} is not in job {job.request['JobName']}.")
        per_instance = rec["Metrics"]["MaxInvocations"]
        peak = (params.get("ScalingPolicyObjective") or {}).get("MaxInvocationsPerMinute", per_instance)
        # The emulator's rule (the service does not publish its own): track half of an instance's
        # measured maximum, leaving headroom for the time a scale-out takes.
        target = max(1, per_instance // 2)
        return {
            "InferenceRecommendationsJobName": job.request["JobName"],
            "RecommendationId": rec["RecommendationId"],
            "Metric": {"InvocationsPerInstance": target, "ModelLatency": rec["Metrics"]["ModelLatency"]},
            "DynamicScalingConfiguration": {
                "MinCapacity": 1,
                "MaxCapacity": max(1, math.ceil(peak / target)),
                "ScaleInCooldown": 300,
                "ScaleOutCooldown": 300,
                "ScalingPolicies": [
                    {
                        "TargetTracking": {
                            "MetricSpecification": {
                                "Predefined": {"PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"}
                            },
                            "TargetValue": float(target),
                        }
                    }
                ],
            },
        }

    # --- the job ---------------------------------------------------------------------------
    def _candidates(self, job: Job, package: dict[str, Any]) -> list[tuple[str, str, dict[str, str]]]:
        """(inference specification name, "" for the primary; instance type; environment)."""
        spec = job.request["InputConfig"]
        if spec.get("EndpointConfigurations"):
            out = []
            for ec in spec["EndpointConfigurations"]:
                ranges = (ec.get("EnvironmentParameterRanges") or {}).get("CategoricalParameterRanges") or []
                combos: list[dict[str, str]] = [{}]
                for r in ranges:
                    combos = [{**c, r["Name"]: v} for c in combos for v in r["Value"]]
                out.extend((ec.get("InferenceSpecificationName", ""), ec["InstanceType"], combo) for combo in combos)
            return out
        types = package["InferenceSpecification"].get("SupportedRealtimeInferenceInstanceTypes") or [
            "ml.c5.large",
            "ml.c5.xlarge",
            "ml.m5.large",
        ]
        return [("", t, {}) for t in types]

    def _run(self, job: Job, package: dict[str, Any]) -> None:
        try:
            self._measure_and_recommend(job, package)
        except Exception as exc:
            log.exception("inference recommender job %s failed", job.request["JobName"])
            job.set("FAILED", str(exc))

    def _measure_and_recommend(self, job: Job, package: dict[str, Any]) -> None:
        job.set("IN_PROGRESS")
        spec = job.request["InputConfig"]
        deadline = time.monotonic() + int(spec.get("JobDurationInSeconds") or 7200)
        candidates = self._candidates(job, package)
        containers = {name: specification_container(package, name) for name, _, _ in candidates}
        refused = on_behalf.refused_to_role(
            job.request["RoleArn"],
            job.request["JobName"],
            [Check("s3:GetObject", on_behalf.s3_object_arn(package["SamplePayloadUrl"]))]
            + [
                check
                for container in containers.values()
                for check in (
                    Check("ecr:BatchGetImage", on_behalf.ecr_repository_arn(container["Image"])),
                    Check("s3:GetObject", on_behalf.s3_object_arn(container["ModelDataUrl"])),
                )
            ],
            self.ctx.account,
            self.ctx.region,
        )
        if refused:
            # The job runs as its role: what the role may not do fails the job, as on AWS.
            job.set("FAILED", f"AccessDenied: {refused}")
            return
        artifacts = {name: self.ctx.fetch_s3(c["ModelDataUrl"]) for name, c in containers.items()}
        bodies = [b.strip() for _, b in sorted(read_members(self.ctx.fetch_s3(package["SamplePayloadUrl"])).items())][
            :100
        ]
        step = {"StepType": "BENCHMARK", "JobName": job.request["JobName"], "Status": "PENDING"}
        job.steps = [dict(step) for _ in candidates]
        percentile, sla = self._sla(job)
        measured: dict[str, Measurement] = {}
        for i, (name, instance_type, env) in enumerate(candidates):
            if job.stop.is_set():
                job.set("STOPPED")
                return
            if time.monotonic() > deadline:
                job.set("FAILED", "the job overran its JobDurationInSeconds")
                return
            job.steps[i]["Status"] = "IN_PROGRESS"
            key = json.dumps([name, env], sort_keys=True)
            if key not in measured:
                container = containers[name]
                measured[key] = measure(
                    Served(artifacts[name], server_kind(container["Image"]), name),
                    {**(container.get("Environment") or {}), **env},
                    bodies,
                    percentile,
                    sla,
                    job.stop,
                )
            m = measured[key]
            try:
                rec = self._recommendation(job, i, instance_type, name, env, m)
            except prices.UnknownInstanceType as exc:
                job.steps[i].update(
                    Status="FAILED",
                    InferenceBenchmark={"ModelConfiguration": self._model_config(name, env), "FailureReason": str(exc)},
                )
                continue
            job.recommendations.append(rec)
            job.steps[i].update(
                Status="COMPLETED",
                InferenceBenchmark={
                    "Metrics": rec["Metrics"],
                    "EndpointConfiguration": rec["EndpointConfiguration"],
                    "ModelConfiguration": rec["ModelConfiguration"],
                    "EndpointMetrics": m.endpoint_metrics(),
                    "InvocationStartTime": rec["InvocationStartTime"],
                    "InvocationEndTime": rec["InvocationEndTime"],
                },
            )
        job.performances = [
            {
                "Metrics": m.endpoint_metrics(),
                "EndpointInfo": {
                    "EndpointName": f"measured-on-this-machine-1-worker-{_slug(m.inference_specification)}"
                    f"-{_env_slug(m.environment)}"[:63].rstrip("-")
                },
            }
            for m in measured.values()
        ]
        self._write_report(job, package, list(measured.values()))
        if not job.recommendations:
            job.set("FAILED", "no candidate instance type could be benchmarked")
            return
        job.set("COMPLETED")

    def _sla(self, job: Job) -> tuple[str, float]:
        thresholds = ((job.request.get("StoppingConditions") or {}).get("ModelLatencyThresholds")) or []
        if thresholds:
            return thresholds[0].get("Percentile", "P99"), float(thresholds[0].get("ValueInMilliseconds", 100))
        return "P99", 100.0

    def _model_config(self, name: str, env: dict[str, str]) -> dict[str, Any]:
        # EnvironmentParameters, when present, holds at least one item (the API's shape).
        config: dict[str, Any] = {}
        if env:
            config["EnvironmentParameters"] = [
                {"Key": k, "ValueType": "String", "Value": v} for k, v in sorted(env.items())
            ]
        if name:
            config["InferenceSpecificationName"] = name
        return config

    def _recommendation(
        self, job: Job, i: int, instance_type: str, name: str, env: dict[str, str], m: Measurement
    ) -> dict[str, Any]:
        now = utcnow()
        endpoint = f"projection-{instance_type.replace('.', '-')}-{_slug(name)}-from-local-measurement"
        return {
            "RecommendationId": f"{job.request['JobName']}/{i + 1:08x}",
            "Metrics": project(m, instance_type).metrics(),
            "EndpointConfiguration": {
                "EndpointName": endpoint[:63].rstrip("-"),
                "VariantName": VARIANT,
                "InstanceType": instance_type,
                "InitialInstanceCount": 1,
            },
            "ModelConfiguration": self._model_config(name, env),
            "InvocationStartTime": now,
            "InvocationEndTime": now,
        }

    def _write_report(self, job: Job, package: dict[str, Any], measured: list[Measurement]) -> None:
        bucket = package["SamplePayloadUrl"].removeprefix("s3://").split("/", 1)[0]
        uri = f"s3://{bucket}/rtb-mlops-emulator/inference-recommender/{job.request['JobName']}/measurements.json"
        self.ctx.write_s3(uri, json.dumps(report(job.request["JobName"], measured), indent=2).encode())
        log.info("inference recommender %s measurements: %s", job.request["JobName"], uri)


def _check_specification_names(params: dict[str, Any], package: dict[str, Any]) -> None:
    """Each EndpointConfigurations[].InferenceSpecificationName must name one of the package's
    additional inference specifications."""
    known = {s["Name"] for s in package.get("AdditionalInferenceSpecifications") or []}
    for i, ec in enumerate((params.get("InputConfig") or {}).get("EndpointConfigurations") or [], start=1):
        name = ec.get("InferenceSpecificationName")
        if name is not None and name not in known:
            raise validation(
                f"InputConfig.EndpointConfigurations.{i}.InferenceSpecificationName '{name}' is not an"
                f" inference specification of model package {package['ModelPackageArn']}"
                f" (it has: {', '.join(sorted(known)) or 'none beside the primary one'})."
            )


def _slug(name: str) -> str:
    return name.lower() or "primary"


def _env_slug(env: dict[str, str]) -> str:
    return "-".join(f"{k}-{v}" for k, v in sorted(env.items())).lower().replace("_", "-") or "default"


def _check_custom_load_test(params: dict[str, Any]) -> None:
    """A custom load test (a TrafficPattern) takes latency thresholds at P95 only (API reference,
    ModelLatencyThreshold: "For custom load tests, specify the value as P95")."""
    if not (params.get("InputConfig") or {}).get("TrafficPattern"):
        return
    thresholds = (params.get("StoppingConditions") or {}).get("ModelLatencyThresholds") or []
    for i, threshold in enumerate(thresholds, start=1):
        if threshold.get("Percentile") != "P95":
            raise validation(
                f"Value '{threshold.get('Percentile')}' at 'stoppingConditions.modelLatencyThresholds.{i}.member"
                ".percentile' failed to satisfy constraint: custom load tests (a TrafficPattern) accept P95 only."
            )
