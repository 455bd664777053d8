"""`rtb-mlops check`: an endpoint's answers to the golden requests its package was registered
with, compared within a tolerance, and the result recorded where an auditor finds it.

The golden object is trusted only if its bytes have the sha256 the package recorded at
registration; the endpoint must serve the package the caller names (CodePipeline passes the
approved ARN), so a check can never vouch for another version.

Each check is a SageMaker ML Lineage Tracking *action* of type `GoldenRequestCheck` (status
`Completed` when it passed, `Failed` when not), linked to the package's artifact and the
endpoint's context: "an action represents an action or activity, for example a model
deployment" (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateAction.html,
and https://docs.aws.amazon.com/sagemaker/latest/dg/lineage-tracking-entities.html). Actions
are kept, one per check, so the history is the audit trail; the audit shows the newest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from botocore.client import BaseClient
from botocore.exceptions import ClientError

from model_registry import golden, lineage, packages
from model_registry.contract import GOLDEN_OUTPUTS_SHA256, GOLDEN_OUTPUTS_URI
from model_registry.endpoints import package_of_model
from model_registry.errors import UserError

# Rows per InvokeEndpoint request: far below the 6 MB body limit for rows of this model.
BATCH_ROWS = 500


class CheckRefused(UserError):
    """The check cannot be made as asked: no golden record, a tampered one, another package."""


@dataclass(frozen=True)
class Served:
    endpoint_arn: str
    package: packages.PackageVersion


@dataclass(frozen=True)
class CheckResult:
    endpoint: str
    package_arn: str
    golden_uri: str
    tolerance: float
    rows: int
    mismatches: list[golden.Mismatch]
    max_abs_diff: float

    @property
    def passed(self) -> bool:
        return not self.mismatches

    def properties(self) -> dict[str, str]:
        return {
            "verdict": "passed" if self.passed else "failed",
            "endpoint": self.endpoint,
            "model_package_arn": self.package_arn,
            "golden_outputs_uri": self.golden_uri,
            "tolerance": repr(self.tolerance),
            "rows": str(self.rows),
            "mismatched_rows": str(len(self.mismatches)),
            "max_abs_diff": repr(self.max_abs_diff),
        }


def served_package(sm: BaseClient, endpoint: str) -> Served:
    e = sm.describe_endpoint(EndpointName=endpoint)
    variant = sm.describe_endpoint_config(EndpointConfigName=e["EndpointConfigName"])["ProductionVariants"][0]
    arn = package_of_model(sm.describe_model(ModelName=variant["ModelName"]))
    if not arn:
        raise CheckRefused(f"endpoint {endpoint} serves model {variant['ModelName']}, not made from a model package")
    return Served(e["EndpointArn"], packages.describe(sm, arn))


def read_golden(s3: BaseClient, package: packages.PackageVersion) -> golden.GoldenRecord:
    uri = package.customer_metadata.get(GOLDEN_OUTPUTS_URI, "")
    recorded = package.customer_metadata.get(GOLDEN_OUTPUTS_SHA256, "")
    if not uri.startswith("s3://") or not recorded:
        raise CheckRefused(
            f"{package.arn} has no golden outputs ({GOLDEN_OUTPUTS_URI}, {GOLDEN_OUTPUTS_SHA256} in"
            " CustomerMetadataProperties): register it with run-pipeline or `registry register`"
        )
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    try:
        data = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as exc:
        raise CheckRefused(f"{uri}: cannot read the golden outputs: {exc.response['Error'].get('Code')}") from None
    try:
        return golden.verified(data, recorded, uri)
    except golden.InvalidGolden as exc:
        raise CheckRefused(str(exc)) from None


def answers(runtime: BaseClient, endpoint: str, rows: tuple[str, ...]) -> list[float]:
    """The endpoint's outputs for the rows, in order (`nan` for an answer that is not a number)."""
    out: list[float] = []
    for start in range(0, len(rows), BATCH_ROWS):
        body = ("\n".join(rows[start : start + BATCH_ROWS]) + "\n").encode()
        resp = runtime.invoke_endpoint(EndpointName=endpoint, Body=body, ContentType="text/csv", Accept="text/csv")
        out.extend(_number(v) for v in resp["Body"].read().decode().split())
    return out


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return float("nan")


def serving(sm: BaseClient, endpoint: str, package_arn: str | None) -> Served:
    """What the endpoint serves, refused unless it is `package_arn` (when one is named)."""
    served = served_package(sm, endpoint)
    if package_arn and served.package.arn != package_arn:
        raise CheckRefused(f"endpoint {endpoint} serves {served.package.arn}, not {package_arn}: nothing checked")
    return served


def check(
    sm: BaseClient, s3: BaseClient, runtime: BaseClient, endpoint: str, tolerance: float, package_arn: str | None
) -> tuple[CheckResult, Served]:
    served = serving(sm, endpoint, package_arn)
    record = read_golden(s3, served.package)
    got = answers(runtime, endpoint, record.rows)
    result = CheckResult(
        endpoint=endpoint,
        package_arn=served.package.arn,
        golden_uri=served.package.customer_metadata[GOLDEN_OUTPUTS_URI],
        tolerance=tolerance,
        rows=len(record.rows),
        mismatches=golden.compare(record, got, tolerance),
        max_abs_diff=golden.max_difference(record, got),
    )
    return result, served


def record(sm: BaseClient, result: CheckResult, served: Served, now: datetime | None = None) -> str:
    """The check as a lineage action linked to the package and the endpoint; its ARN."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S%f")[:-3]
    recorder = lineage.LineageRecorder(sm)
    action = recorder.action(
        lineage.golden_check_action_name(stamp, result.endpoint, served.package.version),
        served.endpoint_arn,
        lineage.GOLDEN_CHECK,
        "Completed" if result.passed else "Failed",
        result.properties(),
    )
    recorder.associate(action, recorder.package_artifact(result.package_arn))
    endpoint_context = recorder.context(
        lineage.endpoint_context_name(result.endpoint), served.endpoint_arn, lineage.ENDPOINT
    )
    recorder.associate(action, endpoint_context)
    return action
