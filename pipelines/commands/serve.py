"""`rtb-mlops serve`: the model server's own command line (`serving.cli`), under the CLI."""

from __future__ import annotations

import argparse


def add(sub: argparse._SubParsersAction) -> None:
    from serving import cli

    cli.configure(sub.add_parser("serve", help="serve a model.tar.gz with the SageMaker container contract"))
