"""What a request asks IAM for: the caller's key, the action, the resource ARNs, condition keys.

The operation comes from where each protocol puts it (the JSON protocol's X-Amz-Target, the
query protocol's Action, a REST path per botocore's service model, S3's method and path), the
resource ARNs from the Service Authorization Reference's formats (`catalog`) filled from the
request, and the condition keys from the parameters that AWS documents them for.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import parse_qs, unquote

import botocore.session
from botocore.exceptions import UnknownServiceError

from emulator.iam import catalog
from emulator.iam.policy import Check

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")
_INVOKE = re.compile(r"^/endpoints/([^/]+)/invocations$")
# SigV4 signing names whose IAM prefix differs.
_PREFIX = {"monitoring": "cloudwatch"}
# Operations whose IAM action has another name.
_ACTION = {"lambda:Invoke": "lambda:InvokeFunction"}
# Operations AWS authorises for everyone ("No permissions are required", STS API reference).
_UNCHECKED = {"sts:GetCallerIdentity"}


@dataclass(frozen=True)
class Request:
    access_key: str
    session_token: str | None
    region: str
    service: str  # the IAM prefix: "sagemaker", "cloudwatch", "s3", ...
    operation: str
    params: dict[str, Any] = field(default_factory=dict)
    protocol: str = "json"  # how errors are shaped: json, rest-json, query, rest-xml

    @property
    def action(self) -> str:
        name = f"{self.service}:{self.operation}"
        return _ACTION.get(name, name)


def _headers(environ: dict) -> dict[str, str]:
    return {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}


def parse(environ: dict, body: bytes) -> Request | None:
    """None for a request that is not signed (the emulator's own health check)."""
    headers = _headers(environ)
    match = _CREDENTIAL.search(headers.get("authorization", ""))
    if match is None:
        query = parse_qs(environ.get("QUERY_STRING", ""))
        if "X-Amz-Credential" not in query:
            return None
        key, _, region, service, _ = query["X-Amz-Credential"][0].split("/")
    else:
        key, region, service = match.groups()
    token = headers.get("x-amz-security-token")
    service = _PREFIX.get(service, service)
    path, method = unquote(environ.get("PATH_INFO", "")), environ.get("REQUEST_METHOD", "GET")
    target = headers.get("x-amz-target")
    if target:
        params = json.loads(body or b"{}") if body else {}
        return Request(key, token, region, service, target.rpartition(".")[2], params)
    invoke = _INVOKE.match(path)
    if invoke and service == "sagemaker":
        return Request(key, token, region, service, "InvokeEndpoint", {"EndpointName": invoke.group(1)}, "rest-json")
    if service == "s3":
        operation, params = _s3(method, path, environ.get("QUERY_STRING", ""))
        return Request(key, token, region, service, operation, params, "rest-xml")
    form = {k: v[0] for k, v in parse_qs(body.decode(errors="replace")).items()} if body else {}
    form.update({k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()})
    if "Action" in form:
        return Request(key, token, region, service, form.pop("Action"), form, "query")
    operation, params = _rest(service, method, path)
    if body and environ.get("CONTENT_TYPE", "").startswith("application/json"):
        params.update(json.loads(body))
    return Request(key, token, region, service, operation, params, "rest-json")


def _s3(method: str, path: str, query: str) -> tuple[str, dict[str, Any]]:
    """S3's IAM actions by method and path (path-style addressing, as botocore uses for an IP)."""
    bucket, _, key = path.lstrip("/").partition("/")
    params = {"BucketName": bucket} | ({"ObjectName": key} if key else {})
    if not bucket:
        return "ListAllMyBuckets", {}
    if key:
        return {"GET": "GetObject", "HEAD": "GetObject", "PUT": "PutObject", "DELETE": "DeleteObject"}.get(
            method, "PutObject"
        ), params
    if method == "PUT":
        return "CreateBucket", params
    if method == "DELETE":
        return "DeleteBucket", params
    if "location" in parse_qs(query, keep_blank_values=True):
        return "GetBucketLocation", params
    # HeadBucket and ListObjects(V2) are both authorised as s3:ListBucket.
    prefix = parse_qs(query).get("prefix")
    return "ListBucket", params | ({"prefix": prefix[0]} if prefix else {})


@cache
def _routes(service: str) -> list[tuple[str, re.Pattern, str]]:
    model = botocore.session.get_session().get_service_model(service)
    routes = []
    for name in model.operation_names:
        http = model.operation_model(name).http
        uri = http["requestUri"].split("?")[0]
        regex = re.sub(r"\\\{(\w+)\+?\\\}", r"(?P<\1>[^/]+)", re.escape(uri))
        routes.append((http["method"], re.compile(regex + "/?$"), name))
    return routes


def _rest(service: str, method: str, path: str) -> tuple[str, dict[str, Any]]:
    """A REST-JSON operation (Lambda) found by its method and path in botocore's model."""
    try:
        routes = _routes(service)
    except UnknownServiceError:
        return "Unknown", {}
    for verb, regex, name in routes:
        match = regex.match(path)
        if verb == method and match:
            return name, match.groupdict()
    return "Unknown", {}


# Placeholders of the reference's ARN formats that requests spell differently.
_FILL = {
    "RoleNameWithPath": ("RoleName",),
    "UserNameWithPath": ("UserName",),
    "InferenceRecommendationsJobName": ("JobName",),
    "RuleName": ("Name",),
    "AlarmName": ("AlarmNames",),
    # ECR's JSON parameters are camelCase.
    "RepositoryName": ("repositoryName",),
    # CodeBuild and CodePipeline name their resources in camelCase (`name` where they create one).
    "ProjectName": ("projectName", "name"),
    "PipelineName": ("pipelineName", "name"),
    "StageName": ("stageName",),
    "ActionName": ("actionName",),
}


def _values(placeholder: str, params: dict[str, Any]) -> list[str]:
    for name in (placeholder, *_FILL.get(placeholder, ())):
        value = params.get(name)
        if isinstance(value, str) and value and not value.startswith("arn:"):
            return [value]
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            return value
    if placeholder == "QueueName" and isinstance(params.get("QueueUrl"), str):
        return [params["QueueUrl"].rstrip("/").rsplit("/", 1)[-1]]
    if placeholder == "ProjectName" and isinstance(params.get("ids") or params.get("id"), (list, str)):
        # Builds are authorised on their project: a build id is PROJECT:UUID.
        ids = params.get("ids") or [params["id"]]
        return sorted({i.split(":", 1)[0] for i in ids if isinstance(i, str)})
    if placeholder == "PipelineName" and isinstance(params.get("pipeline"), dict):
        return [str(params["pipeline"].get("name", ""))]  # CreatePipeline / UpdatePipeline
    if placeholder == "EventBusName":
        return ["default"]  # a request that names no bus is for the account's default bus
    if placeholder == "HashOfArtifactSource" and isinstance(params.get("Source"), dict):
        # SageMaker names an artifact by a hash of its source; policies name artifact/*.
        return [hashlib.sha256(json.dumps(params["Source"], sort_keys=True).encode()).hexdigest()[:32]]
    return []


def _fill(rtype: catalog.ResourceType, params: dict[str, Any], region: str, account: str) -> list[str]:
    # ECR names the registry (the account that owns the repository) as registryId.
    if isinstance(params.get("registryId"), str):
        account = params["registryId"]
    arns = [rtype.arn.replace("${Partition}", "aws").replace("${Region}", region).replace("${Account}", account)]
    for placeholder in rtype.placeholders():
        if placeholder in ("Partition", "Region", "Account"):
            continue
        values = _values(placeholder, params)
        if not values:
            return []
        arns = [arn.replace("${" + placeholder + "}", v) for arn in arns for v in values]
    return arns


def _sagemaker_case(arn: str) -> str:
    # SageMaker ARNs carry resource names in lowercase (whatever case the name was given in).
    head, sep, resource = arn.partition(":sagemaker:")
    if not sep:
        return arn
    region_account, _, rest = resource.rpartition(":")
    return f"{head}{sep}{region_account}:{rest.lower()}"


def resources(action: str, params: dict[str, Any], region: str, account: str) -> list[str]:
    """The ARNs `action` is authorised on for these parameters; ["*"] if it has none."""
    types = catalog.resource_types(action)
    given = [v for v in params.values() if isinstance(v, str) and v.startswith("arn:")]
    found = [arn for t in types for arn in given if t.matches(arn)]
    if not found:
        # The reference marks none "required" where an action takes one of several types (an
        # object or an access point's object): the first the request names is the one.
        found = [arn for t in types for arn in _fill(t, params, region, account)]
    if not found:
        # An ARN of a type the action does not take (AWS refuses those when it validates the
        # request); authorised as given, so the answer is that refusal, not a denial.
        found = [arn for arn in given if arn.split(":")[2] == action.split(":")[0]]
    return [_sagemaker_case(arn) for arn in found] or ["*"]


def _condition_keys(request: Request) -> dict[str, list[str]]:
    p = request.params
    keys = {"aws:RequestedRegion": [request.region]}
    for key, param in (
        ("application-autoscaling:service-namespace", "ServiceNamespace"),
        ("application-autoscaling:scalable-dimension", "ScalableDimension"),
        ("iam:AWSServiceName", "AWSServiceName"),
        ("s3:prefix", "prefix"),
        ("cloudwatch:namespace", "Namespace"),
    ):
        if isinstance(p.get(param), str):
            keys[key] = [p[param]]
    return keys


def _passed_roles(request: Request, account: str) -> list[Check]:
    """iam:PassRole for each role a request hands to the service (IAM User Guide, "Granting a
    user permissions to pass a role to an AWS service")."""
    checks = []
    nested = request.params.get("pipeline") if isinstance(request.params.get("pipeline"), dict) else {}
    for param in ("RoleArn", "ExecutionRoleArn", "Role", "serviceRole", "roleArn"):
        role = request.params.get(param) or nested.get(param)
        if isinstance(role, str) and re.fullmatch(rf"arn:aws:iam::{account}:role/.+", role):
            context = {"iam:PassedToService": [f"{request.service}.amazonaws.com"]}
            checks.append(Check("iam:PassRole", role, context))
    return checks if request.service not in ("sts", "iam") else []


def checks(request: Request, account: str, principal_arn: str) -> list[Check]:
    """Every authorisation the request needs from its caller's own policies."""
    if request.action in _UNCHECKED:
        return []
    context = {**_condition_keys(request), "aws:PrincipalArn": [principal_arn], "aws:PrincipalAccount": [account]}
    own = [
        Check(request.action, arn, context)
        for arn in resources(request.action, request.params, request.region, account)
    ]
    return own + _passed_roles(request, account)
