"""What a build's environment image provides, as this machine's tools.

CodeBuild runs a build in a container of the project's `environment.image`; the emulator runs it
in a local shell with this machine's PATH, which stands for the curated images
(aws/codebuild/standard: bash, make, Python). A custom image with more preinstalled (the
model deploy pipeline's image, with rtb-mlops installed: pipelines/templates/cicd.yaml,
DeployImage) is declared to the emulator in RTB_EMULATOR_CODEBUILD_IMAGES, a JSON object of
image name → a local folder of its executables, put first on PATH for builds of that image only;
a build of any other image does not see them.
"""

from __future__ import annotations

import json
import os

IMAGES_SETTING = "RTB_EMULATOR_CODEBUILD_IMAGES"


def tool_dirs() -> dict[str, str]:
    raw = os.environ.get(IMAGES_SETTING, "")
    if not raw:
        return {}
    images = json.loads(raw)
    if not isinstance(images, dict) or not all(isinstance(v, str) for v in images.values()):
        raise ValueError(f"{IMAGES_SETTING}: expected a JSON object of image name -> folder, got {raw[:200]!r}")
    return images


def path_for(image: str, base_path: str) -> str:
    """The PATH a build of `image` runs with."""
    extra = tool_dirs().get(image)
    return f"{extra}{os.pathsep}{base_path}" if extra else base_path
