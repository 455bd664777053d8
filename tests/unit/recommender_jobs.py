"""DescribeInferenceRecommendationsJob for moto, which lacks it: the jobs a test puts here, in
the API's shape, sent as JSON so botocore parses them as it parses AWS's answer."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from model_registry.contract import Recommendation

ACCOUNT, REGION = "123456789012", "us-east-1"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/rtb-mlops-sagemaker-execution"
OPERATION = "describe_inference_recommendations_job"
# 2026-11-29T10:00:00Z, as the JSON protocol sends timestamps.
_NOW = 1_795_946_400


def recommendation(
    rec_id: str, instance_type: str, environment: dict[str, str], specification: str = ""
) -> dict[str, Any]:
    model: dict[str, Any] = {
        "EnvironmentParameters": [{"Key": k, "ValueType": "String", "Value": v} for k, v in sorted(environment.items())]
    }
    if specification:
        model["InferenceSpecificationName"] = specification
    return {
        "RecommendationId": rec_id,
        "Metrics": {"CostPerHour": 0.119, "CostPerInference": 4.2e-8, "MaxInvocations": 46800, "ModelLatency": 2},
        "EndpointConfiguration": {
            "EndpointName": f"sm-epc-{rec_id.rsplit('/', 1)[-1]}",
            "VariantName": "AllTraffic",
            "InstanceType": instance_type,
            "InitialInstanceCount": 1,
        },
        "ModelConfiguration": model,
    }


def job_for(package_arn: str, rec: Recommendation, status: str = "COMPLETED") -> dict[str, Any]:
    """The job that recommended `rec` for the package, with one other candidate beside it."""
    name = rec.recommendation_job_name
    other = "ml.m5.large" if rec.recommended_instance_type != "ml.m5.large" else "ml.c5.large"
    return {
        "JobName": name,
        "JobDescription": "rtb-mlops: Default job, P99 SLA 20 ms",
        "JobType": "Default",
        "JobArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:inference-recommendations-job/{name.lower()}",
        "RoleArn": ROLE,
        "Status": status,
        "CreationTime": _NOW,
        "LastModifiedTime": _NOW + 600,
        "InputConfig": {"ModelPackageVersionArn": package_arn, "JobDurationInSeconds": 7200},
        "InferenceRecommendations": [
            recommendation(
                rec.recommendation_id, rec.recommended_instance_type, rec.environment, rec.inference_specification_name
            ),
            recommendation(f"{name}/other", other, {"OMP_NUM_THREADS": "1"}),
        ],
    }


@dataclass
class RecommenderJobs:
    """What moto's SageMaker answers to DescribeInferenceRecommendationsJob while installed."""

    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)

    def put(self, job: dict[str, Any]) -> dict[str, Any]:
        self.jobs[job["JobName"]] = job
        return job

    def describe(self, response) -> str | tuple[str, dict]:
        """The method moto's SageMakerResponse lacks (moto calls it with the response object)."""
        name = json.loads(response.body)["JobName"]
        if name in self.jobs:
            return json.dumps(self.jobs[name])
        error = {"__type": "ResourceNotFound", "message": f"Inference recommendations job {name} not found."}
        return json.dumps(error), {"status": 400}

    def install(self, monkeypatch) -> RecommenderJobs:
        from moto.sagemaker.responses import SageMakerResponse

        monkeypatch.setattr(SageMakerResponse, OPERATION, lambda response: self.describe(response), raising=False)
        return self
