"""CodeBuild in the emulator: builds that run their buildspec's phases in a local shell.

moto keeps the projects (CreateProject, BatchGetProjects, ...); `builds` runs StartBuild for
real (source, buildspec, phases, artifacts, logs, the service role's credentials), `buildspec`
reads the file as CodeBuild does, `shell` runs one command as a persistent version 0.2 shell
would, `responses` answers the build operations, `cloudformation` makes AWS::CodeBuild::Project.
"""
