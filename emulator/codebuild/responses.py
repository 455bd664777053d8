"""The CodeBuild build operations, answered by the emulator's builds (`builds`); moto keeps
answering the project operations (CreateProject, BatchGetProjects, UpdateProject, ...).
Shapes as in the CodeBuild API Reference (StartBuild, BatchGetBuilds, StopBuild, ListBuilds,
ListBuildsForProject)."""

from __future__ import annotations

from typing import Any

from emulator.codebuild.builds import Build, CodeBuild
from emulator.protocol import operation


class CodeBuildApi:
    def __init__(self, engine: CodeBuild):
        self.engine = engine

    def _shape(self, build: Build) -> dict[str, Any]:
        return build.shape(self.engine.ctx.region, self.engine.ctx.account)

    @operation("CodeBuild_20161006.StartBuild")
    def start_build(self, params: dict[str, Any]) -> dict[str, Any]:
        build = self.engine.start(params["projectName"], params)
        return {"build": self._shape(build)}

    @operation("CodeBuild_20161006.BatchGetBuilds")
    def batch_get_builds(self, params: dict[str, Any]) -> dict[str, Any]:
        found = [self.engine.builds[i] for i in params["ids"] if i in self.engine.builds]
        missing = [i for i in params["ids"] if i not in self.engine.builds]
        return {"builds": [self._shape(b) for b in found], "buildsNotFound": missing}

    @operation("CodeBuild_20161006.StopBuild")
    def stop_build(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"build": self._shape(self.engine.stop(params["id"]))}

    @operation("CodeBuild_20161006.ListBuildsForProject")
    def list_builds_for_project(self, params: dict[str, Any]) -> dict[str, Any]:
        name = self.engine.project(params["projectName"])["name"]
        return {"ids": _ids([b for b in self.engine.builds.values() if b.project_name == name], params)}

    @operation("CodeBuild_20161006.ListBuilds")
    def list_builds(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"ids": _ids(list(self.engine.builds.values()), params)}


def _ids(builds: list[Build], params: dict[str, Any]) -> list[str]:
    builds.sort(key=lambda b: b.start, reverse=params.get("sortOrder", "DESCENDING") == "DESCENDING")
    return [b.id for b in builds]
