"""A build's PATH: the declared image's tools first, for that image only."""

from __future__ import annotations

import json

import pytest

from emulator.codebuild.images import IMAGES_SETTING, path_for


def test_a_declared_image_puts_its_tools_first_and_other_images_do_not_see_them(monkeypatch):
    monkeypatch.setenv(IMAGES_SETTING, json.dumps({"rtb-mlops-deploy:local": "/opt/tools/bin"}))
    assert path_for("rtb-mlops-deploy:local", "/usr/bin:/bin") == "/opt/tools/bin:/usr/bin:/bin"
    assert path_for("aws/codebuild/standard:7.0", "/usr/bin:/bin") == "/usr/bin:/bin"


def test_the_setting_must_map_names_to_folders(monkeypatch):
    monkeypatch.setenv(IMAGES_SETTING, json.dumps(["rtb-mlops-deploy:local"]))
    with pytest.raises(ValueError, match=IMAGES_SETTING):
        path_for("rtb-mlops-deploy:local", "/usr/bin")
