"""Walking a request's value against a botocore shape, collecting AWS's constraint messages."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from botocore.model import Shape

from emulator.validation.patterns import matches

_NUMBERS = {"integer", "long", "float", "double"}


class WrongType(ValueError):
    """A value of another JSON type than the model's: AWS answers SerializationException."""


@dataclass
class Findings:
    messages: list[str] = field(default_factory=list)

    def add(self, value: Any, path: str, constraint: str) -> None:
        self.messages.append(f"Value {_shown(value)} at '{path}' failed to satisfy constraint: {constraint}")


def _shown(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, bool):
        return f"'{str(value).lower()}'"
    if isinstance(value, list):
        return "'[" + ", ".join(str(v) for v in value) + "]'"
    if isinstance(value, dict):
        return f"'{json.dumps(value, separators=(',', ':'))}'"
    return f"'{value}'"


def member_path(parent: str, name: str) -> str:
    """AWS names a member by its lowerCamelCase name, nested with dots."""
    name = name[:1].lower() + name[1:]
    return f"{parent}.{name}" if parent else name


def check(shape: Shape, value: Any, path: str, out: Findings) -> None:
    kind = shape.type_name
    if kind == "structure":
        _structure(shape, value, path, out)
    elif kind == "list":
        _expect(value, list, path)
        _length(shape, value, path, out)
        for i, item in enumerate(value, start=1):
            check(shape.member, item, f"{path}.{i}.member", out)
    elif kind == "map":
        _expect(value, dict, path)
        _length(shape, value, path, out)
        _map(shape, value, path, out)
    elif kind == "string":
        _expect(value, str, path)
        _string(shape, value, path, out)
    elif kind in _NUMBERS:
        if isinstance(value, bool) or not isinstance(value, int if kind in ("integer", "long") else (int, float)):
            raise WrongType(f"{path}: expected a number")
        _range(shape, value, path, out)
    elif kind == "boolean":
        _expect(value, bool, path)
    elif kind == "blob":
        _expect(value, str, path)
    elif kind == "timestamp" and (isinstance(value, bool) or not isinstance(value, (int, float, str))):
        raise WrongType(f"{path}: expected a timestamp")


def _expect(value: Any, kind: type, path: str) -> None:
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise WrongType(f"{path}: expected {kind.__name__}, got {type(value).__name__}")


def _structure(shape: Shape, value: Any, path: str, out: Findings) -> None:
    if shape.metadata.get("document"):
        return
    _expect(value, dict, path)
    for name in shape.required_members:
        if value.get(name) is None:
            out.add(None, member_path(path, name), "Member must not be null")
    for name, member in shape.members.items():
        if value.get(name) is not None:
            check(member, value[name], member_path(path, name), out)


def _length(shape: Shape, value: Any, path: str, out: Findings) -> None:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and len(value) < low:
        out.add(value, path, f"Member must have length greater than or equal to {low}")
    if high is not None and len(value) > high:
        out.add(value, path, f"Member must have length less than or equal to {high}")


def _range(shape: Shape, value: float, path: str, out: Findings) -> None:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and value < low:
        out.add(value, path, f"Member must have value greater than or equal to {low}")
    if high is not None and value > high:
        out.add(value, path, f"Member must have value less than or equal to {high}")


def _string(shape: Shape, value: str, path: str, out: Findings) -> None:
    _length(shape, value, path, out)
    enum = shape.metadata.get("enum")
    if enum and value not in enum:
        out.add(value, path, f"Member must satisfy enum value set: [{', '.join(enum)}]")
    pattern = shape.metadata.get("pattern")
    if pattern and not matches(pattern, value):
        out.add(value, path, f"Member must satisfy regular expression pattern: {pattern}")


def _map(shape: Shape, value: dict, path: str, out: Findings) -> None:
    """AWS reports a map's keys and values as one constraint on the map."""
    for part, shapes in (("keys", lambda k, v: (shape.key, k)), ("value", lambda k, v: (shape.value, v))):
        inner = Findings()
        for k, v in value.items():
            sub, item = shapes(k, v)
            check(sub, item, path, inner)
        if inner.messages:
            reasons = sorted({m.split("failed to satisfy constraint: ", 1)[1] for m in inner.messages})
            label = "Map keys must" if part == "keys" else "Map value must"
            out.add(value, path, f"{label} satisfy constraint: [{', '.join(reasons)}]")
