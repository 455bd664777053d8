"""The checks `rtb-mlops preflight` runs against the configured account before a first real
run, each a small function of boto3 clients and settings returning one or more Results.

The permission checks ask IAM's policy simulator (iam:SimulatePrincipalPolicy) about a few
representative calls each actor makes, on the ARNs it makes them on (SageMaker ARNs are
lowercase); the quota check reads the same `<type> for endpoint usage` quotas the Recommend
step plans within (steps/endpoint_quotas.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

import botocore.session
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from steps import endpoint_quotas


class Status(Enum):
    PASS = "PASS"  # noqa: S105 (a check status, not a password)
    WARN = "WARN"
    FAIL = "FAIL"


@dataclass(frozen=True)
class Result:
    check: str
    status: Status
    detail: str
    fix: str = ""  # what to do about a WARN or FAIL


@dataclass(frozen=True)
class Needed:
    """A call an actor makes: an action on a resource ARN, with the condition keys it sends."""

    action: str
    resource: str = "*"
    context: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Account:
    """Where the flow runs: the caller's account and partition, and the configured region."""

    account: str
    partition: str
    region: str

    def sagemaker(self, resource: str) -> str:
        return f"arn:{self.partition}:sagemaker:{self.region}:{self.account}:{resource.lower()}"


def _error(exc: ClientError) -> str:
    err = exc.response.get("Error", {})
    return f"{err.get('Code', '')}: {err.get('Message', '')}".strip(": ")


def identity(sts: BaseClient) -> tuple[Result, str]:
    """(the result, the caller's ARN or "" when there are no usable credentials)."""
    try:
        who = sts.get_caller_identity()
    except ClientError as exc:
        fix = "configure credentials (aws configure, AWS_PROFILE)"
        return Result("credentials", Status.FAIL, _error(exc), fix), ""
    return Result("credentials", Status.PASS, f"{who['Arn']} in account {who['Account']}"), who["Arn"]


def region(name: str) -> Result:
    """Offline: botocore's endpoint data lists the regions SageMaker is offered in."""
    offered = botocore.session.get_session().get_available_regions("sagemaker")
    if name in offered:
        return Result("region", Status.PASS, f"{name} offers SageMaker")
    return Result("region", Status.FAIL, f"{name} does not offer SageMaker", "set aws.region to a SageMaker region")


def role_exists(iam: BaseClient, role_arn: str, what: str) -> Result:
    name = role_arn.rsplit("/", 1)[-1]
    try:
        iam.get_role(RoleName=name)
    except ClientError as exc:
        return Result(what, Status.FAIL, f"{role_arn}: {_error(exc)}", "run `rtb-mlops stack deploy`")
    return Result(what, Status.PASS, f"{role_arn} exists")


def simulate(iam: BaseClient, principal_arn: str, needed: list[Needed], what: str, fix: str) -> Result:
    """One simulation per call (each may send its own condition keys); FAIL names every denial."""
    denied = []
    try:
        for n in needed:
            context = [
                {"ContextKeyName": k, "ContextKeyValues": v, "ContextKeyType": "stringList"}
                for k, v in n.context.items()
            ]
            answer = iam.simulate_principal_policy(
                PolicySourceArn=principal_arn, ActionNames=[n.action], ResourceArns=[n.resource], ContextEntries=context
            )
            denied += [
                f"{r['EvalActionName']} on {r.get('EvalResourceName', n.resource)} ({r['EvalDecision']})"
                for r in answer["EvaluationResults"]
                if r["EvalDecision"] != "allowed"
            ]
    except ClientError as exc:
        return Result(what, Status.FAIL, f"could not simulate {principal_arn}: {_error(exc)}", fix)
    if denied:
        return Result(what, Status.FAIL, "denied: " + "; ".join(denied), fix)
    return Result(what, Status.PASS, f"{len(needed)} representative calls allowed for {principal_arn}")


def bucket(s3: BaseClient, name: str) -> Result:
    try:
        s3.head_bucket(Bucket=name)
    except ClientError as exc:
        fix = f"create the bucket {name} in the configured region, or set aws.bucket to one you can reach"
        return Result("bucket", Status.FAIL, f"{name}: {_error(exc)}", fix)
    return Result("bucket", Status.PASS, f"{name} is reachable")


def instance_quotas(sq: BaseClient, instance_types: list[str], min_count: int, peak_count: int) -> list[Result]:
    """Each candidate type must be offered here (it has a quota) and its quota must cover the
    planned peak: below the minimum the endpoint cannot be created (FAIL); below the peak,
    autoscaling is capped at the quota (WARN)."""
    quotas = endpoint_quotas.read(sq)
    if quotas.problem:
        fix = "allow servicequotas:ListServiceQuotas to the caller"
        return [Result("instance quotas", Status.WARN, quotas.problem, fix)]
    results = []
    for t in instance_types:
        name = endpoint_quotas.quota_name(t)
        value, _ = quotas.value(t)
        check = f"quota {t}"
        if value is None:
            fix = f"drop {t} from recommender.instance_types"
            results.append(Result(check, Status.FAIL, f"{t} is not offered for endpoints in this region", fix))
        elif value < min_count:
            fix = f"request an increase of Service Quotas 'SageMaker: {name}' to at least {peak_count}"
            results.append(Result(check, Status.FAIL, f"'{name}' is {value}, below {min_count} instances", fix))
        elif value < peak_count:
            fix = f"request an increase of Service Quotas 'SageMaker: {name}' to {peak_count}"
            results.append(Result(check, Status.WARN, f"'{name}' is {value}, below the peak {peak_count}", fix))
        else:
            results.append(Result(check, Status.PASS, f"'{name}' is {value}, covers {peak_count}"))
    return results


def stack_role(cfn: BaseClient, iam: BaseClient, stack: str, logical_id: str) -> tuple[Result, str]:
    """(the result, the ARN of the stack's role `logical_id`, or "" when there is none)."""
    fix = "run `rtb-mlops stack deploy`"
    try:
        status = cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]
        name = cfn.describe_stack_resource(StackName=stack, LogicalResourceId=logical_id)["StackResourceDetail"][
            "PhysicalResourceId"
        ]
        arn = iam.get_role(RoleName=name)["Role"]["Arn"]
    except ClientError as exc:
        return Result("deploy stack", Status.FAIL, f"{stack}: {_error(exc)}", fix), ""
    if status not in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
        return Result("deploy stack", Status.FAIL, f"{stack} is {status}", fix), arn
    return Result("deploy stack", Status.PASS, f"{stack} is {status}, its function role {arn}"), arn


def images(region_name: str, xgboost_version: str, processing_version: str) -> Result:
    """Offline, with the SageMaker SDK lookup the pipeline definition uses."""
    from sagemaker.core import image_uris

    try:
        found = [
            image_uris.retrieve("xgboost", region=region_name, version=xgboost_version),
            image_uris.retrieve("sklearn", region=region_name, version=processing_version),
        ]
    except ValueError as exc:
        fix = "choose model.xgboost_container_version / pipeline.processing_image_version offered in the region"
        return Result("images", Status.FAIL, str(exc), fix)
    return Result("images", Status.PASS, ", ".join(found))
