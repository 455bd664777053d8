"""One module per `rtb-mlops` subcommand: each has `add(subparsers)` and a `run(args)`."""
