"""The SageMaker Pipeline: RegisterModel and Parity -> Recommend -> ApprovalGate -> approve / hold / reject.

Built with the SageMaker Python SDK v3, so step types, property files, JsonGet conditions
and parameter references are the SDK's own. Building the definition needs no network and
no credentials: the step code is referenced by its content hash, not uploaded here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

# Import this module only after `pipelines.sdk_env.prepare()`: the SDK builds boto3
# clients as it is imported, and prepare() undoes what its import does to logging.
from sagemaker.core import image_uris
from sagemaker.core.processing import Processor
from sagemaker.core.shapes import (
    MetadataProperties,
    ProcessingInput,
    ProcessingOutput,
    ProcessingS3Input,
    ProcessingS3Output,
)
from sagemaker.core.workflow.conditions import (
    ConditionEquals,
    ConditionGreaterThanOrEqualTo,
    ConditionLessThanOrEqualTo,
)
from sagemaker.core.workflow.execution_variables import ExecutionVariables
from sagemaker.core.workflow.functions import Join, JsonGet
from sagemaker.core.workflow.parameters import ParameterFloat, ParameterInteger, ParameterString
from sagemaker.core.workflow.pipeline_context import PipelineSession
from sagemaker.core.workflow.properties import PropertyFile
from sagemaker.mlops.workflow.condition_step import ConditionStep
from sagemaker.mlops.workflow.fail_step import FailStep
from sagemaker.mlops.workflow.model_step import ModelStep
from sagemaker.mlops.workflow.pipeline import Pipeline
from sagemaker.mlops.workflow.steps import ProcessingStep
from sagemaker.serve.model_builder import ModelBuilder

from model_registry.aws import boto_session
from model_registry.contract import ARTIFACT_SHA256, GOLDEN_OUTPUTS_SHA256, GOLDEN_OUTPUTS_URI
from model_registry.packages import fast_specification
from pipelines.code_bundle import STEPS_PACKAGES, CodeBundle, collect
from pipelines.config import PipelineConfig

PROCESSING = "/opt/ml/processing"
CODE_DIR = f"{PROCESSING}/input/code"
RESULTS_IN = f"{PROCESSING}/input/results"
RESULTS_OUT = f"{PROCESSING}/output/results"
RESULTS_FILE = "results.json"
MODEL_IN = f"{PROCESSING}/input/model"
PAYLOAD_IN = f"{PROCESSING}/input/payload"
PARITY_IN = f"{PROCESSING}/input/parity"
PARITY_OUT = f"{PROCESSING}/output/parity"
PROPERTY_FILE = "RecommendResults"
SDK_CONFIG = {"SchemaVersion": "1.0", "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": True}}}}
REPOSITORY = "https://github.com/rtb-mlops/rtb-mlops"

# The xgboost release line each serving image carries, as Inference Recommender wants it.
FRAMEWORK_VERSIONS = {"1.7-1": "1.7", "3.0-5": "3.0", "3.2-0": "3.2"}


@dataclass(frozen=True)
class Parameters:
    """Pipeline parameters: what an execution may change without a new definition."""

    artifact: ParameterString
    payload: ParameterString
    sha256: ParameterString
    golden_uri: ParameterString
    golden_sha256: ParameterString
    commit: ParameterString
    approval_mode: ParameterString
    job_type: ParameterString
    max_latency_ms: ParameterInteger
    percentile: ParameterString
    peak_rps: ParameterFloat
    safety_factor: ParameterFloat
    min_instances: ParameterInteger
    max_instances: ParameterInteger
    max_cost_per_inference: ParameterFloat
    max_fleet_cost_per_hour: ParameterFloat
    job_duration: ParameterInteger

    @classmethod
    def from_config(cls, cfg: PipelineConfig) -> Parameters:
        rec, dep = cfg.recommender, cfg.deploy
        return cls(
            artifact=ParameterString("ModelArtifactUri", default_value=_s3_or_none(cfg.model.artifact)),
            payload=ParameterString("SamplePayloadUri", default_value=_s3_or_none(cfg.model.sample_payload)),
            # No default: run-pipeline supplies the checksum of the artifact it validated.
            sha256=ParameterString("ModelArtifactSha256"),
            # Written by run-pipeline beside the payload: the artifact's outputs for its rows.
            golden_uri=ParameterString("GoldenOutputsUri"),
            golden_sha256=ParameterString("GoldenOutputsSha256"),
            commit=ParameterString("SourceCommit", default_value="unknown"),
            approval_mode=ParameterString(
                "ApprovalMode", default_value=cfg.approval.mode, enum_values=["auto", "manual"]
            ),
            job_type=ParameterString(
                "RecommenderJobType", default_value=rec.job_type, enum_values=["Default", "Advanced"]
            ),
            max_latency_ms=ParameterInteger("MaxLatencyMs", default_value=rec.max_latency_ms),
            percentile=ParameterString(
                "LatencyPercentile", default_value=rec.latency_percentile, enum_values=["P95", "P99"]
            ),
            peak_rps=ParameterFloat("PeakRequestsPerSecond", default_value=rec.peak_requests_per_second),
            safety_factor=ParameterFloat("SafetyFactor", default_value=rec.safety_factor),
            min_instances=ParameterInteger("MinInstances", default_value=dep.min_instances),
            max_instances=ParameterInteger("MaxInstances", default_value=dep.max_instances),
            max_cost_per_inference=ParameterFloat("MaxCostPerInference", default_value=rec.max_cost_per_inference),
            max_fleet_cost_per_hour=ParameterFloat("MaxFleetCostPerHour", default_value=rec.max_fleet_cost_per_hour),
            job_duration=ParameterInteger("RecommenderJobDurationSeconds", default_value=rec.job_duration_seconds),
        )

    def all(self) -> list:
        return list(vars(self).values())


def _s3_or_none(location: str) -> str | None:
    """A local file has no S3 URI until run-pipeline uploads it; then it must be passed."""
    return location if location.startswith("s3://") else None


def session(cfg: PipelineConfig) -> PipelineSession:
    return PipelineSession(
        boto_session=boto_session(cfg.aws.region),
        default_bucket=cfg.aws.bucket,
        default_bucket_prefix=cfg.aws.prefix,
        sagemaker_config=SDK_CONFIG,
    )


def serving_image(cfg: PipelineConfig) -> str:
    """The SageMaker XGBoost serving image of the configured version, in the configured region."""
    return image_uris.retrieve("xgboost", region=cfg.aws.region, version=cfg.model.xgboost_container_version)


def _register_step(cfg: PipelineConfig, p: Parameters, sess: PipelineSession) -> ModelStep:
    version = cfg.model.xgboost_container_version
    builder = ModelBuilder(
        s3_model_data_url=p.artifact,
        image_uri=serving_image(cfg),
        role_arn=cfg.aws.role_arn,
        sagemaker_session=sess,
        # The SDK's default dependency handling uploads code; an artifact needs none.
        dependencies=None,
        # Its default, DEBUG, is set on a logger shared across the SDK.
        log_level=logging.ERROR,
    )
    args = builder.register(
        model_package_group_name=cfg.registry.model_package_group,
        content_types=["text/csv"],
        response_types=["text/csv"],
        inference_instances=list(cfg.recommender.instance_types),
        approval_status="PendingManualApproval",
        description="RTB bid-request filter (XGBoost, binary:logistic)",
        domain="MACHINE_LEARNING",
        task="CLASSIFICATION",
        sample_payload_url=p.payload,
        customer_metadata_properties={
            ARTIFACT_SHA256: p.sha256,
            GOLDEN_OUTPUTS_URI: p.golden_uri,
            GOLDEN_OUTPUTS_SHA256: p.golden_sha256,
        },
        metadata_properties=MetadataProperties(
            commit_id=p.commit, repository=REPOSITORY, generated_by=ExecutionVariables.PIPELINE_EXECUTION_ARN
        ),
    )
    # register() sets Framework only from its own model detection (which would also send it
    # down a code-upload path); Inference Recommender needs both fields on the container.
    request = args.create_model_package_request
    for container in request["InferenceSpecification"]["Containers"]:
        container.update(Framework="XGBOOST", FrameworkVersion=FRAMEWORK_VERSIONS[version])
    # register() has no parameter for it; CreateModelPackage takes the fast image beside the
    # stock one as an additional inference specification, which the recommender benchmarks too.
    request["AdditionalInferenceSpecifications"] = [
        fast_specification(
            cfg.serving.image_uri, p.artifact, FRAMEWORK_VERSIONS[version], cfg.recommender.instance_types
        )
    ]
    return ModelStep(name="RegisterModel", step_args=args)


def _s3_input(name: str, uri, local_path: str) -> ProcessingInput:
    return ProcessingInput(
        input_name=name,
        s3_input=ProcessingS3Input(s3_uri=uri, local_path=local_path, s3_data_type="S3Prefix", s3_input_mode="File"),
    )


def _execution_output(cfg: PipelineConfig, name: str) -> Join:
    return Join(on="/", values=[cfg.s3_root, "executions", ExecutionVariables.PIPELINE_EXECUTION_ID, name])


def _parity_step(cfg: PipelineConfig, p: Parameters, sess: PipelineSession, code_uri: str) -> ProcessingStep:
    """serving.parity in the fast image itself: the compiled predictor that image would serve,
    against xgboost, on the sample payload and generated rows. The step script runs by path,
    so the image's own packages are imported, not the step code's (steps/parity_step.py)."""
    processor = Processor(
        role=cfg.aws.role_arn,
        image_uri=cfg.serving.image_uri,
        instance_count=1,
        instance_type=cfg.pipeline.processing_instance_type,
        entrypoint=["python3", f"{CODE_DIR}/steps/parity_step.py"],
        env={"PYTHONUNBUFFERED": "1"},
        sagemaker_session=sess,
    )
    args = processor.run(
        inputs=[
            _code_input(code_uri),
            _s3_input("model", p.artifact, MODEL_IN),
            _s3_input("payload", p.payload, PAYLOAD_IN),
        ],
        outputs=[
            ProcessingOutput(
                output_name="parity",
                s3_output=ProcessingS3Output(
                    s3_uri=_execution_output(cfg, "parity"), local_path=PARITY_OUT, s3_upload_mode="EndOfJob"
                ),
            )
        ],
        arguments=_flags({"--model-dir": MODEL_IN, "--payload-dir": PAYLOAD_IN, "--out-dir": PARITY_OUT}),
    )
    return ProcessingStep(name="Parity", step_args=args)


def _processor(cfg: PipelineConfig, sess: PipelineSession, module: str) -> Processor:
    return Processor(
        role=cfg.aws.role_arn,
        image_uri=image_uris.retrieve("sklearn", region=cfg.aws.region, version=cfg.pipeline.processing_image_version),
        instance_count=1,
        instance_type=cfg.pipeline.processing_instance_type,
        entrypoint=["python3", "-m", module],
        env={"PYTHONPATH": CODE_DIR, "PYTHONUNBUFFERED": "1"},
        sagemaker_session=sess,
    )


def _code_input(code_uri: str) -> ProcessingInput:
    return ProcessingInput(
        input_name="code",
        s3_input=ProcessingS3Input(s3_uri=code_uri, local_path=CODE_DIR, s3_data_type="S3Prefix", s3_input_mode="File"),
    )


def _flags(flags: dict) -> list:
    return [item for pair in flags.items() for item in pair]


def _recommend_step(
    cfg: PipelineConfig, p: Parameters, sess: PipelineSession, code_uri: str, package_arn, parity_uri
) -> tuple:
    results = PropertyFile(name=PROPERTY_FILE, output_name="results", path=RESULTS_FILE)
    output_uri = _execution_output(cfg, "recommend")
    args = _processor(cfg, sess, "steps.recommend").run(
        inputs=[_code_input(code_uri), _s3_input("parity", parity_uri, PARITY_IN)],
        outputs=[
            ProcessingOutput(
                output_name="results",
                s3_output=ProcessingS3Output(s3_uri=output_uri, local_path=RESULTS_OUT, s3_upload_mode="EndOfJob"),
            )
        ],
        arguments=_flags(
            {
                "--model-package-arn": package_arn,
                "--role-arn": cfg.aws.role_arn,
                "--job-type": p.job_type,
                "--instance-types": ",".join(cfg.recommender.instance_types),
                "--omp-num-threads": ",".join(cfg.recommender.omp_num_threads),
                "--max-latency-ms": p.max_latency_ms.to_string(),
                "--latency-percentile": p.percentile,
                "--peak-rps": p.peak_rps.to_string(),
                "--safety-factor": p.safety_factor.to_string(),
                "--min-instances": p.min_instances.to_string(),
                "--max-instances": p.max_instances.to_string(),
                "--max-cost-per-inference": p.max_cost_per_inference.to_string(),
                "--max-fleet-cost-per-hour": p.max_fleet_cost_per_hour.to_string(),
                "--job-duration-seconds": p.job_duration.to_string(),
                "--traffic-phase-seconds": str(cfg.recommender.traffic_phase_seconds),
                "--pipeline-execution-arn": ExecutionVariables.PIPELINE_EXECUTION_ARN,
                "--output-dir": RESULTS_OUT,
                "--parity-dir": PARITY_IN,
            }
        ),
    )
    step = ProcessingStep(name="Recommend", step_args=args, property_files=[results])
    return step, results


def _action_step(cfg, sess, code_uri: str, name: str, action: str, package_arn, results_uri) -> ProcessingStep:
    args = _processor(cfg, sess, "steps.gate_action").run(
        inputs=[_code_input(code_uri), _s3_input("results", results_uri, RESULTS_IN)],
        arguments=_flags({"--action": action, "--model-package-arn": package_arn, "--results-dir": RESULTS_IN}),
    )
    return ProcessingStep(name=name, step_args=args)


def build_pipeline(cfg: PipelineConfig, bundle: CodeBundle | None = None) -> Pipeline:
    sess = session(cfg)
    p = Parameters.from_config(cfg)
    code_uri = (bundle or collect(STEPS_PACKAGES)).s3_prefix(cfg.s3_root, "steps")
    register = _register_step(cfg, p, sess)
    package_arn = register.properties.ModelPackageArn
    parity = _parity_step(cfg, p, sess, code_uri)
    parity_uri = parity.properties.ProcessingOutputConfig.Outputs["parity"].S3Output.S3Uri
    recommend, results = _recommend_step(cfg, p, sess, code_uri, package_arn, parity_uri)
    results_uri = recommend.properties.ProcessingOutputConfig.Outputs["results"].S3Output.S3Uri

    def figure(path: str) -> JsonGet:
        return JsonGet(step_name=recommend.name, property_file=results, json_path=path)

    approve = _action_step(cfg, sess, code_uri, "Approve", "approve", package_arn, results_uri)
    hold = _action_step(cfg, sess, code_uri, "HoldForManualApproval", "hold", package_arn, results_uri)
    reject = _action_step(cfg, sess, code_uri, "Reject", "reject", package_arn, results_uri)
    fail = FailStep(
        name="GateFailed",
        error_message=Join(on="", values=["Approval gate failed: ", figure("gate.failure_reason")]),
        depends_on=[reject],
    )
    mode = ConditionStep(
        name="ApprovalMode",
        conditions=[ConditionEquals(left=p.approval_mode, right="auto")],
        if_steps=[approve],
        else_steps=[hold],
    )
    gate = ConditionStep(
        name="ApprovalGate",
        conditions=[
            ConditionGreaterThanOrEqualTo(left=figure("candidates.within_sla"), right=1),
            ConditionLessThanOrEqualTo(left=figure("choice.model_latency_ms"), right=p.max_latency_ms),
            ConditionLessThanOrEqualTo(left=figure("choice.cost_per_inference"), right=p.max_cost_per_inference),
            ConditionLessThanOrEqualTo(left=figure("plan.fleet_cost_per_hour"), right=p.max_fleet_cost_per_hour),
            ConditionLessThanOrEqualTo(left=figure("plan.instance_count"), right=p.max_instances),
            # Every check the Recommend step made, including those with no pipeline parameter
            # (the account's endpoint instance quota): a plan above it was approved before.
            ConditionEquals(left=figure("gate.failed_checks"), right=0),
        ],
        if_steps=[mode],
        else_steps=[reject, fail],
    )
    return Pipeline(
        name=cfg.pipeline.name,
        parameters=p.all(),
        steps=[register, parity, recommend, gate],
        sagemaker_session=sess,
    )


def definition_json(cfg: PipelineConfig) -> str:
    return build_pipeline(cfg).definition()
