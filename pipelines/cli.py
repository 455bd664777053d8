"""The `rtb-mlops` command, and the `run-pipeline` / `get-pipeline-definition` entry points
that SageMaker Projects templates call by those names."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from botocore.exceptions import BotoCoreError, ClientError

from deploy_lambda.deploy import EndpointBusy, NotDeployable
from model_registry.errors import UserError
from pipelines.commands import (
    artifact,
    audit,
    check,
    demo,
    deploy,
    emulator,
    example_model,
    invoke,
    loadtest,
    pipeline,
    preflight,
    promote,
    recommend,
    registry,
    serve,
    stack,
)

# What the user can act on: a bad value (config, setting, artifact, payload, flag, metadata:
# all UserError), a missing file, a package that cannot be deployed, a busy endpoint. Any
# other exception, a ValueError included, is a bug and keeps its traceback.
_USER_ERRORS = (UserError, FileNotFoundError, NotDeployable, EndpointBusy)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="rtb-mlops", description="Take an RTB XGBoost model to an autoscaled SageMaker endpoint."
    )
    sub = p.add_subparsers(dest="command", required=True)
    example_model.add(sub)
    artifact.add(sub)
    pipeline.add_definition(sub)
    pipeline.add_run(sub)
    registry.add(sub)
    recommend.add(sub)
    serve.add(sub)
    deploy.add(sub)
    emulator.add(sub)
    stack.add(sub)
    invoke.add(sub)
    loadtest.add(sub)
    demo.add(sub)
    audit.add(sub)
    check.add(sub)
    preflight.add(sub)
    promote.add(sub)
    return p


def _dispatch(args: argparse.Namespace) -> int:
    try:
        return args.func(args)
    except _USER_ERRORS as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (ClientError, BotoCoreError) as exc:
        print(f"error: AWS call failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def main(argv: list[str] | None = None) -> int:
    return _dispatch(parser().parse_args(argv))


def _single(configure: Callable[[argparse.ArgumentParser], None], prog: str, argv: list[str] | None) -> int:
    p = argparse.ArgumentParser(prog=prog)
    configure(p)
    return _dispatch(p.parse_args(argv))


def run_pipeline_main(argv: list[str] | None = None) -> int:
    return _single(pipeline.configure_run, "run-pipeline", argv)


def get_pipeline_definition_main(argv: list[str] | None = None) -> int:
    return _single(pipeline.configure_definition, "get-pipeline-definition", argv)


if __name__ == "__main__":
    sys.exit(main())
