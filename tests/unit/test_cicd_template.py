"""pipelines/templates/cicd.yaml: cfn-lint clean, least privilege per stage, the approved ARN
carried to every stage of the deploy pipeline, and each stage one buildspec.yml knows."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from model_registry.names import PIPELINE_PACKAGE_VARIABLE, deploy_pipeline_name, staging_endpoint_name
from tests.unit.test_template import _candidates, _CfnLoader, _matches, resolve
from tests.unit.test_template import template as lambda_template

ROOT = Path(__file__).resolve().parents[2]
CICD = ROOT / "pipelines" / "templates" / "cicd.yaml"
BUILDSPEC = ROOT / "buildspec.yml"
ARN_VARIABLE = f"#{{variables.{PIPELINE_PACKAGE_VARIABLE}}}"


def template() -> dict:
    return yaml.load(CICD.read_text(), Loader=_CfnLoader)  # noqa: S506 - a SafeLoader subclass


def resources(kind: str) -> dict[str, dict]:
    return {name: r for name, r in template()["Resources"].items() if r["Type"] == kind}


def statements(resource: dict) -> list[dict]:
    props = resource["Properties"]
    docs = [props["PolicyDocument"]] if "PolicyDocument" in props else [p["PolicyDocument"] for p in props["Policies"]]
    return [s for d in docs for s in d["Statement"]]


def test_cfn_lint_passes():
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    out = subprocess.run([str(cfn_lint), str(CICD)], capture_output=True, text=True, timeout=300, check=False)
    assert out.returncode == 0, out.stdout + out.stderr


NO_RESOURCE_LEVEL = {
    "sagemaker:ListModelPackages", "sagemaker:ListArtifacts", "sagemaker:ListContexts", "sagemaker:ListAssociations",
    "sagemaker:QueryLineage", "cloudwatch:GetMetricData", "cloudwatch:DescribeAlarms",
    "application-autoscaling:DescribeScalableTargets", "application-autoscaling:DescribeScalingPolicies",
    "ecr:GetAuthorizationToken",
}  # fmt: skip


def test_no_wildcard_actions_and_star_only_where_aws_has_no_resource_level_permission():
    policies = resources("AWS::IAM::Role") | resources("AWS::IAM::ManagedPolicy")
    for name, policy in policies.items():
        for st in statements(policy):
            actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
            assert not any(a == "*" or a.endswith(":*") for a in actions), (name, st.get("Sid"))
            if st["Resource"] == "*":
                assert set(actions) <= NO_RESOURCE_LEVEL, (name, st["Sid"])
            if "iam:PassRole" in actions:
                assert st["Resource"] == {"Ref": "SageMakerExecutionRoleArn"}, name
                assert st["Condition"] == {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}


def _texts(node) -> list[str]:
    if isinstance(node, dict):
        return [t for v in node.values() for t in _texts(v)]
    if isinstance(node, list):
        return [t for v in node for t in _texts(v)]
    return [node] if isinstance(node, str) else []


@pytest.mark.parametrize(("role", "allowed", "refused"), [
    ("StagingDeployRole", "endpoint/${EndpointName}-staging", "endpoint/${EndpointName}\""),
    ("CheckRole", "endpoint/${EndpointName}-staging", "endpoint/${EndpointName}\""),
    ("LoadTestRole", "endpoint/${EndpointName}-staging", "endpoint/${EndpointName}\""),
    ("ProductionDeployRole", "endpoint/${EndpointName}\"", "endpoint/${EndpointName}-staging"),
    ("AuditRole", "endpoint/${EndpointName}\"", "endpoint/${EndpointName}-staging"),
])  # fmt: skip
def test_each_stage_role_reaches_its_own_endpoint_only(role, allowed, refused):
    arns = [t + '"' for t in _texts(statements(resources("AWS::IAM::Role")[role])) if ":endpoint/" in t]
    assert any(allowed in a for a in arns), arns
    assert not any(refused in a for a in arns), arns


def _deploy_stages() -> dict[str, list[dict]]:
    pipeline = template()["Resources"]["ModelDeployPipeline"]["Properties"]
    return {s["Name"]: sorted(s["Actions"], key=lambda a: a.get("RunOrder", 1)) for s in pipeline["Stages"]}


def test_deploy_pipeline_is_v2_queued_and_carries_the_approved_arn_to_every_stage():
    props = template()["Resources"]["ModelDeployPipeline"]["Properties"]
    assert (props["PipelineType"], props["ExecutionMode"]) == ("V2", "QUEUED")
    assert [v["Name"] for v in props["Variables"]] == [PIPELINE_PACKAGE_VARIABLE]
    stages = _deploy_stages()
    assert {k: [a["Name"] for a in v] for k, v in stages.items()} == {
        "Source": ["Source"],
        # One stage: a second execution cannot redeploy staging while the first waits for a person.
        "Staging": ["DeployStaging", "GoldenCheck", "LoadTest", "ApproveProduction"],
        "Production": ["DeployProduction", "Audit"],
    }
    builds = [a for acts in stages.values() for a in acts if a["ActionTypeId"]["Provider"] == "CodeBuild"]
    for action in builds:
        env = yaml.safe_load(action["Configuration"]["EnvironmentVariables"])
        assert env == [{"name": "MODEL_PACKAGE_ARN", "value": ARN_VARIABLE, "type": "PLAINTEXT"}], action["Name"]


def test_every_stage_is_a_buildspec_stage_and_the_approval_reads_exported_variables():
    buildspec = BUILDSPEC.read_text()
    projects = resources("AWS::CodeBuild::Project")
    for name, project in projects.items():
        stage = next(
            e["Value"] for e in project["Properties"]["Environment"]["EnvironmentVariables"] if e["Name"] == "STAGE"
        )
        assert f'"$STAGE" = {stage} ]' in buildspec, (name, stage)
        assert project["Properties"]["Source"] == {"Type": "CODEPIPELINE", "BuildSpec": "buildspec.yml"}
    for stage in ("staging", "check", "promote", "audit"):
        branch = buildspec.split(f'"$STAGE" = {stage} ]', 1)[1].split("elif", 1)[0]
        assert "require_package" in branch, stage
    exported = yaml.safe_load(buildspec)["env"]["exported-variables"]
    message = _deploy_stages()["Staging"][-1]["Configuration"]["CustomData"]["Sub"]
    namespaces = {a["Name"]: a.get("Namespace") for a in _deploy_stages()["Staging"]}
    for namespace, variable in re.findall(r"#\{(\w+)\.(\w+)\}", message):
        assert namespace == "variables" or (namespace in namespaces.values() and variable in exported), variable
    assert ARN_VARIABLE in message
    # CodePipeline caps CustomData at 500 characters once resolved: the longest ARN and endpoint
    # name, and the summaries at the lengths buildspec.yml cuts them to.
    longest = {
        ARN_VARIABLE: "arn:aws:sagemaker:ap-southeast-2:111122223333:model-package/" + "g" * 63 + "/99999",
        "${EndpointName}": "e" * 55,
        "#{Golden.GOLDEN_SUMMARY}": "x" * 90,
        "#{Golden.AUDIT_SUMMARY}": "x" * len("99 finding(s) ") + "x" * 64,
        "#{LoadTest.LOADTEST_VERDICT}": "x" * len("failed ") + "x" * 90,
    }
    for reference, value in longest.items():
        message = message.replace(reference, value)
    assert "#{" not in message and len(message) <= 500, len(message)


def test_approval_rule_starts_the_deploy_pipeline_for_approvals_only(moto_aws):
    pattern = resolve(
        template()["Resources"]["ApprovalRule"]["Properties"]["EventPattern"],
        {"ModelPackageGroupName": "rtb-bid-filter"},
        {},
    )
    assert _matches(pattern, _candidates()) == ["approved"]
    target = template()["Resources"]["ApprovalRule"]["Properties"]["Targets"][0]
    assert target["Arn"] == {"GetAtt": "StartFunction.Arn"}


@pytest.mark.parametrize(("path", "state"), [("lambda", "ENABLED"), ("codepipeline", "DISABLED")])
def test_the_lambda_templates_rule_is_enabled_only_on_the_lambda_path(path, state):
    rule = lambda_template()["Resources"]["ApprovalRule"]["Properties"]
    assert resolve(rule["State"], {}, {"LambdaDeploysApprovals": path == "lambda"}) == state


def test_names_the_cli_derives_are_the_templates():
    props = template()["Resources"]
    assert props["ModelDeployPipeline"]["Properties"]["Name"] == {"Sub": deploy_pipeline_name("${EndpointName}")}
    staging_arns = _texts(statements(props["StagingDeployRole"]))
    assert any(a.endswith(f"endpoint/{staging_endpoint_name('${EndpointName}')}") for a in staging_arns)


def test_the_model_build_registers_the_image_its_image_stage_pushed():
    t = template()
    stages = {s["Name"]: s["Actions"] for s in t["Resources"]["ModelBuildPipeline"]["Properties"]["Stages"]}
    assert list(stages) == ["Source", "Image", "Build"]
    image_action, build_action = stages["Image"][0], stages["Build"][0]
    assert image_action["Namespace"] == "Image"
    assert "IMAGE_URI" in yaml.safe_load(BUILDSPEC.read_text())["env"]["exported-variables"]
    passed = json.loads(build_action["Configuration"]["EnvironmentVariables"])
    assert passed == [{"name": "RTB_MLOPS__SERVING__IMAGE_URI", "value": "#{Image.IMAGE_URI}", "type": "PLAINTEXT"}]
    project = t["Resources"]["ImageProject"]["Properties"]
    assert project["Environment"]["PrivilegedMode"] is True
    pushes = [s for s in statements(t["Resources"]["ImageRole"]) if "ecr:PutImage" in s["Action"]]
    assert [s["Resource"] for s in pushes] == [
        {"Sub": "arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/${ServingImageRepositoryName}"}
    ]
