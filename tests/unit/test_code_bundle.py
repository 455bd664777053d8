"""What ships to processing jobs and to the Lambda needs only boto3 and the standard library."""

import ast
import sys

import pytest

from pipelines.code_bundle import LAMBDA_PACKAGES, STEPS_PACKAGES, collect

ALLOWED_THIRD_PARTY = {"boto3", "botocore"}


@pytest.mark.parametrize("packages", [STEPS_PACKAGES, LAMBDA_PACKAGES])
def test_bundles_import_nothing_but_boto3_stdlib_and_themselves(packages):
    bundle = collect(packages)
    own = {name.split("/")[0] for name in bundle.files}
    assert bundle.files, "empty bundle"
    for name, source in bundle.files.items():
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                roots = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                roots = [node.module.split(".")[0]]
            else:
                continue
            for root in roots:
                ok = (
                    root in sys.stdlib_module_names
                    or root in ALLOWED_THIRD_PARTY
                    or root in own
                    or root == "__future__"
                )
                assert ok, f"{name} imports {root}"
            if isinstance(node, ast.ImportFrom) and node.module:
                dotted = node.module.replace(".", "/")
                assert not any(f.startswith(dotted + "/") or f == dotted + ".py" for f in ()), dotted


def test_bundle_digest_is_stable_and_content_addressed():
    a, b = collect(STEPS_PACKAGES), collect(STEPS_PACKAGES)
    assert a.digest == b.digest
    assert a.s3_prefix("s3://bkt/p", "steps") == f"s3://bkt/p/code/steps/{a.digest[:16]}"
    assert not any(n.startswith("model_registry/artifact/") for n in a.files)


def test_lambda_zip_holds_the_handler():
    import io
    import zipfile

    names = zipfile.ZipFile(io.BytesIO(collect(LAMBDA_PACKAGES).zip_bytes())).namelist()
    assert "deploy_lambda/handler.py" in names


# What the Lambda and the step scripts agree on with the rest, shipped with both.
CONTRACT = [
    "model_registry/contract.py",
    "model_registry/names.py",
    "model_registry/endpoints.py",
    "model_registry/deploy_bounds.py",
    "model_registry/instance_types.py",
    "model_registry/errors.py",
    "model_registry/tunable_env.py",
]


@pytest.mark.parametrize("packages", [STEPS_PACKAGES, LAMBDA_PACKAGES])
def test_bundles_carry_the_contract(packages):
    assert set(CONTRACT) <= set(collect(packages).files)
