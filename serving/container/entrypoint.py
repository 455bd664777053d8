"""SageMaker's inference container contract, mapped onto the model server's command line.

SageMaker starts the image as `docker run IMAGE serve`, with the extracted model in
`/opt/ml/model`, and sends `/ping` and `/invocations` to port 8080, or to the port it names in
`SAGEMAKER_BIND_TO_PORT` (multi-container endpoints and inference pipelines):
https://docs.aws.amazon.com/sagemaker/latest/dg/your-algorithms-inference-code.html

The settings come from the environment, which is what `ContainerDefinition.Environment` (and
Inference Recommender's environment parameter ranges) can set:

| variable | default | what |
|---|---|---|
| `SAGEMAKER_BIND_TO_PORT` | 8080 | port to listen on |
| `SAGEMAKER_MODEL_SERVER_WORKERS` | one per usable CPU | worker processes (the stock containers' name) |
| `RTB_MLOPS_MODEL_DIR` | `/opt/ml/model` | the extracted artifact (`xgboost-model`) |
| `RTB_MLOPS_BIND_HOST` | `0.0.0.0` | address to bind; SageMaker reaches the container from outside it |
| `RTB_MLOPS_PREDICTOR` | `auto` | `auto` (compiled, else xgboost), `compiled` or `xgboost` |
| `RTB_MLOPS_STARTUP_TIMEOUT` | 210 | seconds the workers may take to load and compile |
| `RTB_MLOPS_CACHE` | `/tmp/rtb-mlops` (the image's ENV) | the compiled model's cache (`serving.compiler`) |

SageMaker fails an endpoint whose container has not answered `/ping` with 200 within 4 minutes
of starting, so the default startup timeout leaves the server time to say why it failed.
Flags after `serve` are passed to the server as they are (`serve --predictor xgboost`) and win.
The server runs in this process: with an exec-form ENTRYPOINT it is PID 1 and gets SageMaker's
SIGTERM itself, and stops its workers before the SIGKILL 30 s later.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass

from serving import cli

DEFAULT_PORT = 8080
DEFAULT_MODEL_DIR = "/opt/ml/model"
DEFAULT_HOST = "0.0.0.0"  # noqa: S104 - the container default only: SageMaker connects from outside it
DEFAULT_STARTUP_TIMEOUT = 210


class ContractError(ValueError):
    """A setting in the environment that the server cannot start with; names the variable."""


@dataclass(frozen=True)
class ContainerSettings:
    model_dir: str
    host: str
    port: int
    workers: int
    predictor: str
    startup_timeout: float

    @classmethod
    def from_environ(cls, environ: Mapping[str, str], cpus: int) -> ContainerSettings:
        return cls(
            model_dir=environ.get("RTB_MLOPS_MODEL_DIR", DEFAULT_MODEL_DIR),
            host=environ.get("RTB_MLOPS_BIND_HOST", DEFAULT_HOST),
            port=_integer(environ, "SAGEMAKER_BIND_TO_PORT", DEFAULT_PORT, 1, 65535),
            workers=_integer(environ, "SAGEMAKER_MODEL_SERVER_WORKERS", cpus, 1, 1024),
            predictor=_choice(environ, "RTB_MLOPS_PREDICTOR", "auto", ("auto", "compiled", "xgboost")),
            startup_timeout=_integer(environ, "RTB_MLOPS_STARTUP_TIMEOUT", DEFAULT_STARTUP_TIMEOUT, 1, 3600),
        )

    def server_args(self) -> list[str]:
        return [
            "--model-artifact",
            self.model_dir,
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
            "--predictor",
            self.predictor,
            "--startup-timeout",
            str(self.startup_timeout),
        ]


def _integer(environ: Mapping[str, str], name: str, default: int, lo: int, hi: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ContractError(f"{name}={raw[:40]!r}: expected a whole number from {lo} to {hi}") from None
    if not lo <= value <= hi:
        raise ContractError(f"{name}={value}: expected a whole number from {lo} to {hi}")
    return value


def _choice(environ: Mapping[str, str], name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = environ.get(name, "").strip() or default
    if value not in allowed:
        raise ContractError(f"{name}={value[:40]!r}: expected one of {', '.join(allowed)}")
    return value


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity, which a container's cpuset narrows)."""
    return len(os.sched_getaffinity(0))


def main(argv: list[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] != "serve":
        shown = argv[0] if argv else "nothing"
        print(f"error: this image serves inference only; run it with 'serve', got {shown!r}", file=sys.stderr)
        return 2
    try:
        settings = ContainerSettings.from_environ(os.environ if environ is None else environ, usable_cpus())
    except ContractError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return cli.main([*settings.server_args(), *argv[1:]])
