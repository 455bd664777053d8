"""The inference image's sources: the entrypoint's mapping of SageMaker's contract, the Dockerfile
(hadolint), its pinned requirements against setup.py, and its build context against the imports."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

from serving import cli
from serving.container import entrypoint, requirements
from tests.conftest import REPO

DOCKERFILE = REPO / "serving" / "container" / "Dockerfile"
HADOLINT = Path(sys.executable).parent / "hadolint"


@pytest.fixture
def server_args(monkeypatch):
    seen = []
    monkeypatch.setattr(cli, "main", lambda argv: seen.append(argv) or 0)
    monkeypatch.setattr(entrypoint, "usable_cpus", lambda: 3)
    return seen


def _flags(argv: list[str]) -> dict[str, str]:
    return dict(zip(argv[::2], argv[1::2], strict=True))


def test_serve_with_no_settings_is_sagemakers_default(server_args):
    assert entrypoint.DEFAULT_HOST == "0.0.0.0"  # noqa: S104 - SageMaker reaches the container from outside it
    assert entrypoint.main(["serve"], {}) == 0
    assert _flags(server_args[0]) == {
        "--model-artifact": "/opt/ml/model",
        "--host": entrypoint.DEFAULT_HOST,
        "--port": "8080",
        "--workers": "3",
        "--predictor": "auto",
        "--startup-timeout": "210",
    }


def test_the_environment_and_extra_flags_are_passed_on(server_args):
    env = {
        "SAGEMAKER_BIND_TO_PORT": "9001",
        "SAGEMAKER_MODEL_SERVER_WORKERS": "5",
        "RTB_MLOPS_MODEL_DIR": "/m",
        "RTB_MLOPS_BIND_HOST": "127.0.0.1",
        "RTB_MLOPS_PREDICTOR": "xgboost",
    }
    assert entrypoint.main(["serve", "--max-connections", "10"], env) == 0
    argv = server_args[0]
    assert argv[-2:] == ["--max-connections", "10"]
    flags = _flags(argv)
    assert (flags["--port"], flags["--workers"], flags["--model-artifact"]) == ("9001", "5", "/m")
    assert (flags["--host"], flags["--predictor"]) == ("127.0.0.1", "xgboost")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SAGEMAKER_BIND_TO_PORT": "http"}, "SAGEMAKER_BIND_TO_PORT='http': expected a whole number from 1 to 65535"),
        ({"SAGEMAKER_BIND_TO_PORT": "70000"}, "SAGEMAKER_BIND_TO_PORT=70000: expected a whole number from 1 to 65535"),
        ({"SAGEMAKER_MODEL_SERVER_WORKERS": "0"}, "SAGEMAKER_MODEL_SERVER_WORKERS=0: expected a whole number"),
        ({"RTB_MLOPS_PREDICTOR": "gpu"}, "RTB_MLOPS_PREDICTOR='gpu': expected one of auto, compiled, xgboost"),
    ],
)
def test_a_bad_setting_exits_2_naming_the_variable(server_args, capsys, env, message):
    assert entrypoint.main(["serve"], env) == 2
    assert message in capsys.readouterr().err and not server_args


@pytest.mark.parametrize("argv", [[], ["train"]])
def test_anything_but_serve_is_refused(server_args, capsys, argv):
    assert entrypoint.main(argv, {}) == 2
    assert "this image serves inference only; run it with 'serve'" in capsys.readouterr().err and not server_args


def test_the_local_cli_still_binds_loopback_by_default():
    parser = cli.argparse.ArgumentParser()
    cli.configure(parser)
    assert parser.parse_args(["--model-artifact", "m.tar.gz"]).host == "127.0.0.1"


def test_hadolint_passes_on_the_dockerfile_and_fails_on_a_bad_one(tmp_path):
    out = subprocess.run([str(HADOLINT), str(DOCKERFILE)], capture_output=True, text=True, check=False, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM debian\nRUN apt-get update && apt-get install -y gcc\n")
    out = subprocess.run([str(HADOLINT), str(bad)], capture_output=True, text=True, check=False, timeout=60)
    assert out.returncode != 0 and "DL3006" in out.stdout


def test_requirements_pin_every_serving_package_within_setup_pys_range():
    """(`make serving-requirements` pins the versions installed where it runs; a fresh install may
    resolve newer ones, so only the range is held here.)"""
    pinned = {}
    for line in (REPO / "serving" / "container" / "requirements.txt").read_text().splitlines():
        if "==" in line and not line.startswith((" ", "#")):
            name, version = line.split(" ")[0].split("==")
            pinned[name] = version
    for spec in requirements.serving_requirements():
        image_name = requirements.SUBSTITUTES.get(Requirement(spec).name, Requirement(spec).name)
        assert image_name in pinned, f"{spec} is not in requirements.txt: run make serving-requirements"
        assert pinned[image_name] in Requirement(spec).specifier, (
            f"{image_name}=={pinned[image_name]} is outside {spec}"
        )


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    return names | {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}


def test_the_image_holds_every_project_module_the_server_imports():
    """The Dockerfile copies serving/, model_registry/artifact/ and two model_registry modules;
    a new import from elsewhere in the project would fail only when the image starts."""
    copied = {"model_registry", "model_registry.errors"}
    todo = [p for p in (REPO / "serving").rglob("*.py")]
    seen: set[Path] = set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for module in _imported_modules(path):
            if module.split(".")[0] not in {"serving", "model_registry"}:
                continue
            assert module.startswith(("serving", "model_registry.artifact")) or module in copied, f"{path}: {module}"
            target = REPO / Path(*module.split("."))
            todo += [p for p in (target.with_suffix(".py"), target / "__init__.py") if p.exists()]
    dockerfile = DOCKERFILE.read_text()
    for source in ("model_registry/__init__.py model_registry/errors.py", "model_registry/artifact/", "serving/"):
        assert f"COPY {source}" in dockerfile


def test_the_buildspecs_source_digest_covers_exactly_the_build_context():
    """The image stage tags by the digest of the files the image is built from; a path let into the
    context (.dockerignore) but left out of the digest would change the image without its tag."""
    allowed = [line[1:].rstrip("/") for line in (REPO / ".dockerignore").read_text().splitlines() if line[:1] == "!"]
    commands = yaml.safe_load((REPO / "buildspec.yml").read_text())["phases"]["build"]["commands"][0]
    find = next(line for line in commands.splitlines() if "SOURCES_DIGEST=$(find" in line)
    digested = find.split("find ", 1)[1].split(" -type f", 1)[0].split()
    assert sorted(digested) == sorted([".dockerignore", *allowed])
