"""AWS JSON-protocol plumbing for the operations the emulator answers itself."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any


class ApiError(Exception):
    """An AWS error response: the code and message botocore turns into a ClientError."""

    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def not_found(what: str) -> ApiError:
    return ApiError("ResourceNotFound", f"{what} not found.")


def validation(message: str) -> ApiError:
    return ApiError("ValidationException", message)


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.timestamp()  # the JSON protocol's timestamp format: epoch seconds
    raise TypeError(f"cannot serialise {type(value).__name__}")


def json_response(body: Any, status: int = 200) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/x-amz-json-1.1"}, json.dumps(body, default=_default).encode()


def error_response(err: ApiError) -> tuple[int, dict[str, str], bytes]:
    headers = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-ErrorType": err.code}
    return err.status, headers, json.dumps({"__type": err.code, "message": err.message}).encode()


# A JSON-protocol operation takes the request's parameters and returns the response's; the
# runtime's InvokeEndpoint, routed by its path, takes the endpoint's name, body and content type.
Handler = Callable[..., Any]
_TAG = "aws_operation"


def operation(target: str) -> Callable[[Callable], Callable]:
    """Names the operation a method answers, as `Service.Operation` (the JSON protocol's
    X-Amz-Target), so that a service's Operations finds it and a reader's grep does too."""

    def mark(method: Callable) -> Callable:
        setattr(method, _TAG, target)
        return method

    return mark


class Operations:
    """The operations of one service that the emulator implements, by name."""

    def __init__(self, prefix: str):
        self.prefix = prefix
        self.handlers: dict[str, Handler] = {}

    def register(self, implementation: object) -> None:
        """Adds each of the object's methods marked @operation for this service."""
        for attr in dir(type(implementation)):
            target = getattr(getattr(type(implementation), attr), _TAG, "")
            service, _, name = target.partition(".")
            if service == self.prefix:
                self.handlers[name] = getattr(implementation, attr)

    def find(self, target: str | None) -> Handler | None:
        if not target or not target.startswith(self.prefix + "."):
            return None
        return self.handlers.get(target[len(self.prefix) + 1 :])
