"""Validating the inputs, shipping the step code, upserting the pipeline and starting one
execution: what `run-pipeline` does, and what the local demo does the same way."""

from __future__ import annotations

from dataclasses import dataclass

from model_registry import packages
from model_registry.aws import client
from pipelines import code_bundle, ecr_image, runner
from pipelines.commands.common import source_commit
from pipelines.config import PipelineConfig
from pipelines.inputs import ResolvedInputs, resolve


@dataclass(frozen=True)
class Launched:
    pipeline_arn: str
    execution_arn: str
    inputs: ResolvedInputs


def launch(cfg: PipelineConfig) -> Launched:
    """Requires `pipelines.sdk_env.prepare()` to have run (the definition needs the SDK)."""
    from pipelines.definition import Parameters, build_pipeline

    s3, sm = client("s3", cfg.aws.region), client("sagemaker", cfg.aws.region)
    # The pipeline references the fast image: refuse one that is not there before anything is written.
    ecr_image.require(cfg.serving.image_uri)
    packages.ensure_group(sm, cfg.registry.model_package_group, "RTB bid-request filter versions (rtb-mlops)")
    inputs = resolve(cfg, s3, cfg.model.artifact, cfg.model.sample_payload)
    bundle = code_bundle.collect(code_bundle.STEPS_PACKAGES)
    code_bundle.upload(s3, bundle, bundle.s3_prefix(cfg.s3_root, "steps"))
    definition = build_pipeline(cfg, bundle).definition()
    pipeline_arn = runner.upsert(
        sm, cfg.pipeline.name, definition, cfg.aws.role_arn, "RTB bid filter: register, recommend, gate"
    )
    params = {p.name: p.default_value for p in Parameters.from_config(cfg).all() if p.default_value is not None}
    params.update(
        ModelArtifactUri=inputs.artifact_uri,
        SamplePayloadUri=inputs.payload_uri,
        ModelArtifactSha256=inputs.sha256,
        GoldenOutputsUri=inputs.golden_uri,
        GoldenOutputsSha256=inputs.golden_sha256,
        SourceCommit=source_commit(),
    )
    execution_arn = runner.start(sm, cfg.pipeline.name, params, f"sha-{inputs.sha256[:12]}")
    return Launched(pipeline_arn, execution_arn, inputs)
