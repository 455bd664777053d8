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


Handler = Callable[[dict[str, Any]], dict[str, Any]]


class Operations:
    """The operations of one JSON-protocol service that the emulator implements."""

    def __init__(self, prefix: str):
        self.prefix = prefix
        self.handlers: dict[str, Handler] = {}

    def add(self, name: str, handler: Handler) -> None:
        self.handlers[name] = handler

    def find(self, target: str | None) -> Handler | None:
        if not target or not target.startswith(self.prefix + "."):
            return None
        return self.handlers.get(target[len(self.prefix) + 1 :])
