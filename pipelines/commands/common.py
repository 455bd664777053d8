"""Flags and loading shared by the subcommands."""

from __future__ import annotations

import argparse
import os
import subprocess

from pipelines.config import PipelineConfig, load_config

DEFAULT_CONFIG = "config/pipeline.yaml"


def add_config_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        default=os.environ.get("RTB_MLOPS_CONFIG", DEFAULT_CONFIG),
        help=f"configuration file (default: $RTB_MLOPS_CONFIG or {DEFAULT_CONFIG})",
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="override a configuration value (repeatable)",
    )


def load(args: argparse.Namespace, extra: list[str] | None = None) -> PipelineConfig:
    return load_config(args.config, [*args.overrides, *(extra or [])])


def source_commit() -> str:
    """The commit being deployed: CodeBuild's, else the checkout's, else unknown."""
    if os.environ.get("CODEBUILD_RESOLVED_SOURCE_VERSION"):
        return os.environ["CODEBUILD_RESOLVED_SOURCE_VERSION"]
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=False)
    except OSError:
        return "unknown"
    return out.stdout.strip() if out.returncode == 0 else "unknown"
