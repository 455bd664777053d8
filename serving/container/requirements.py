"""serving/container/requirements.txt: the inference image's Python packages, pinned with hashes.

    python -m serving.container.requirements      (make serving-requirements)

Made from setup.py's SERVING list, resolved by uv for the image's Python and platform, each
package held to the version installed in this virtualenv, which the tests ran with. xgboost
becomes xgboost-cpu: the same library under the same import name, without the NVIDIA NCCL
wheel (hundreds of MB) that the full package pulls in for multi-GPU training.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent / "requirements.txt"
IMAGE_PYTHON = "3.13"  # Debian trixie's python3, and the python:3.13 base CodeBuild builds on
IMAGE_PLATFORM = "x86_64-manylinux_2_28"
SUBSTITUTES = {"xgboost": "xgboost-cpu"}


def serving_requirements(setup_py: Path = REPO / "setup.py") -> list[str]:
    """The SERVING list, read without running setup.py."""
    for node in ast.parse(setup_py.read_text()).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "SERVING" for t in node.targets):
            return list(ast.literal_eval(node.value))
    raise ValueError(f"{setup_py}: no SERVING list")


def requirement_name(requirement: str) -> str:
    return re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def image_requirement(requirement: str) -> str:
    name = requirement_name(requirement)
    return SUBSTITUTES.get(name, name) + requirement[len(name) :]


def tested_versions() -> list[str]:
    """`name==version` for every distribution in this virtualenv, under the image's names."""
    pins = {}
    for dist in metadata.distributions():
        name = requirement_name(dist.metadata["Name"])
        pins[SUBSTITUTES.get(name, name)] = dist.version
    return [f"{name}=={version}" for name, version in sorted(pins.items())]


def main() -> int:
    uv = Path(sys.executable).parent / "uv"
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as constraints:
        constraints.write("\n".join(tested_versions()) + "\n")
        constraints.flush()
        cmd = [str(uv), "pip", "compile", "-", "--constraint", constraints.name, "--python-version", IMAGE_PYTHON]
        cmd += ["--python-platform", IMAGE_PLATFORM, "--generate-hashes", "--no-annotate", "--quiet"]
        cmd += ["--custom-compile-command", "make serving-requirements", "--output-file", str(OUT)]
        wanted = "\n".join(image_requirement(r) for r in serving_requirements()) + "\n"
        return subprocess.run(cmd, input=wanted, text=True, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
