"""Running a Lambda function's handler as AWS would: its own code, its own environment.

The function's zip (as CloudFormation deployed it into moto) is unpacked once per code
digest, and each invocation runs `handler(event, context)` in a fresh interpreter with the
function's environment variables and the emulator as its AWS endpoint, so nothing leaks
between invocations or into the emulator; its output goes to the function's CloudWatch Logs
group. Asynchronous invocations (EventBridge targets) are retried twice with backoff, as
Lambda does, and then go to the dead-letter queue. A function's reserved concurrency is
honoured (with 1, its invocations run one at a time); without, it may run as many at once as
the account's concurrency quota allows.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import subprocess
import sys
import threading
import time
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path

from moto.awslambda.models import lambda_backends
from moto.sqs.models import sqs_backends

from emulator import lambda_logs
from emulator.context import Context
from emulator.iam import principals
from serving.child import dies_with_parent

log = logging.getLogger("rtb_mlops.emulator")

# Like Lambda's Python runtime: a root handler on stderr with the request id in each line.
_RUNNER = """
import importlib, json, logging, sys, types
logging.basicConfig(stream=sys.stderr, format="[%(levelname)s]\\t%(asctime)s\\t" + sys.argv[4] + "\\t%(message)s")
module, _, func = sys.argv[1].rpartition(".")
event = json.load(sys.stdin)
context = types.SimpleNamespace(function_name=sys.argv[2], invoked_function_arn=sys.argv[3],
                                aws_request_id=sys.argv[4], memory_limit_in_mb=sys.argv[5])
result = getattr(importlib.import_module(module), func)(event, context)
print("\\n__RESULT__" + json.dumps(result, default=str))
"""
RETRY_DELAYS = (1.0, 2.0)  # Lambda waits ~1 and ~2 minutes; the emulator, seconds


@dataclass(frozen=True)
class Invocation:
    ok: bool
    result: object
    log: str


class Lambdas:
    def __init__(self, ctx: Context, account_concurrency: int = 1000):
        self.ctx = ctx
        self.account_concurrency = account_concurrency
        self.account, self.region = ctx.account, ctx.region
        self.code_dir = ctx.folder("lambda-code")
        self._lock = threading.Lock()
        self._slots: dict[str, threading.Semaphore] = {}

    def _slot(self, fn) -> threading.Semaphore:
        with self._lock:
            if fn.function_arn not in self._slots:
                self._slots[fn.function_arn] = threading.Semaphore(
                    int(fn.reserved_concurrency or self.account_concurrency)
                )
            return self._slots[fn.function_arn]

    def _function(self, name_or_arn: str):
        return lambda_backends[self.account][self.region].get_function(name_or_arn)

    def _unpack(self, fn) -> Path:
        digest = hashlib.sha256(fn.code_bytes).hexdigest()[:16]
        target = self.code_dir / f"{fn.function_name}-{digest}"
        with self._lock:
            if not target.exists():
                tmp = target.with_suffix(".tmp")
                with zipfile.ZipFile(io.BytesIO(fn.code_bytes)) as zf:
                    zf.extractall(tmp)
                tmp.rename(target)
        return target

    def invoke(self, name_or_arn: str, event: dict, request_id: str) -> Invocation:
        fn = self._function(name_or_arn)
        code = self._unpack(fn)
        try:
            # As Lambda does: the function's role assumed, its temporary credentials in the environment.
            role = principals.assume(fn.role, "lambda.amazonaws.com", fn.function_name, self.account, self.region)
        except principals.NotTrusted as exc:
            return Invocation(False, f"The role defined for the function cannot be assumed by Lambda: {exc}", "")
        env = {
            "PATH": "/usr/bin:/bin",
            **{k: str(v) for k, v in (fn.environment_vars or {}).items()},
            **self.ctx.aws_environment(role.environment()),
            "AWS_LAMBDA_FUNCTION_NAME": fn.function_name,
            "PYTHONPATH": str(code),
        }
        argv = [sys.executable, "-c", _RUNNER, fn.handler, fn.function_name, fn.function_arn, request_id, "256"]
        with self._slot(fn):
            started = time.monotonic()
            result = self._run(fn, argv, event, env, code)
        lambda_logs.record(
            self.account, self.region, fn.function_name, request_id, result.log, (time.monotonic() - started) * 1000
        )
        return result

    def _run(self, fn, argv: list[str], event: dict, env: dict[str, str], code: Path) -> Invocation:
        try:
            proc = subprocess.run(
                dies_with_parent(argv),
                input=json.dumps(event),
                capture_output=True,
                text=True,
                env=env,
                cwd=code,
                timeout=fn.timeout + 30,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return Invocation(False, f"Task timed out after {fn.timeout} seconds", "")
        out, _, result = proc.stdout.rpartition("\n__RESULT__")
        logs = (out + proc.stderr).strip()
        if proc.returncode != 0:
            lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
            return Invocation(False, lines[-1] if lines else f"exit status {proc.returncode}", logs)
        return Invocation(True, json.loads(result) if result else None, logs)

    def invoke_async(self, name_or_arn: str, event: dict, dead_letter_arn: str | None = None) -> None:
        threading.Thread(target=self._async, args=(name_or_arn, event, dead_letter_arn), daemon=True).start()

    def _async(self, name_or_arn: str, event: dict, dead_letter_arn: str | None) -> None:
        # Lambda keeps one request id across the retries of an asynchronous invocation.
        request_id = str(uuid.uuid4())
        for attempt in range(len(RETRY_DELAYS) + 1):
            result = self.invoke(name_or_arn, event, request_id)
            log.info(
                "lambda %s attempt %d: %s %s",
                name_or_arn.rsplit(":", 1)[-1],
                attempt + 1,
                "ok" if result.ok else "error",
                json.dumps(result.result, default=str)[:300],
            )
            if result.ok:
                return
            if attempt < len(RETRY_DELAYS):
                time.sleep(RETRY_DELAYS[attempt])
        if dead_letter_arn:
            queue = dead_letter_arn.rsplit(":", 1)[-1]
            sqs_backends[self.account][self.region].send_message(queue, json.dumps(event))
            log.warning("lambda %s failed 3 times; event %s sent to %s", name_or_arn, event.get("id"), queue)
