"""Evaluating a pipeline definition's expressions: parameter, execution and step-property
references, `Std:Join`, `Std:JsonGet` on property files, and conditions."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]|\['([^']+)'\]|\[\"([^\"]+)\"\]")


class ExpressionError(ValueError):
    pass


@dataclass
class Scope:
    """What references resolve against during one execution."""

    parameters: dict[str, Any]
    execution: dict[str, Any]
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)
    property_files: dict[tuple[str, str], Any] = field(default_factory=dict)


def _parts(path: str) -> list[str | int]:
    out: list[str | int] = []
    for name, index, quoted, dquoted in _PATH_PART.findall(path):
        out.append(int(index) if index else (name or quoted or dquoted))
    return out


def _walk(value: Any, parts: list[str | int], where: str) -> Any:
    for part in parts:
        if isinstance(part, int) and isinstance(value, list) and part < len(value):
            value = value[part]
        elif isinstance(part, str) and isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(part, str) and isinstance(value, list):
            # The SDK addresses list members by name: Outputs['results'] is the output named so.
            match = [v for v in value if isinstance(v, dict) and part in (v.get("OutputName"), v.get("InputName"))]
            if not match:
                raise ExpressionError(f"{where}: no member named {part!r}")
            value = match[0]
        else:
            raise ExpressionError(f"{where}: cannot follow {part!r}")
    return value


def _get(ref: str, scope: Scope) -> Any:
    head, _, rest = ref.partition(".")
    if head == "Parameters":
        if rest not in scope.parameters:
            raise ExpressionError(f"parameter {rest} has no value")
        return scope.parameters[rest]
    if head == "Execution":
        return scope.execution[rest]
    if head == "Steps":
        step, _, prop = rest.partition(".")
        if step not in scope.steps:
            raise ExpressionError(f"step {step} has not run, so {ref} has no value")
        return _walk(scope.steps[step], _parts(prop), ref)
    raise ExpressionError(f"unknown reference {ref}")


def resolve(value: Any, scope: Scope) -> Any:
    if isinstance(value, list):
        return [resolve(v, scope) for v in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Get"}:
        return _get(value["Get"], scope)
    if set(value) == {"Std:Join"}:
        spec = value["Std:Join"]
        return spec["On"].join(str(resolve(v, scope)) for v in spec["Values"])
    if set(value) == {"Std:JsonGet"}:
        spec = value["Std:JsonGet"]
        ref = spec["PropertyFile"]["Get"]  # Steps.<step>.PropertyFiles.<name>
        _, step, _, name = ref.split(".", 3)
        if (step, name) not in scope.property_files:
            raise ExpressionError(f"property file {name} of step {step} is not available")
        path = resolve(spec["Path"], scope)
        return _walk(scope.property_files[(step, name)], _parts(path), f"JsonGet {name}:{path}")
    return {k: resolve(v, scope) for k, v in value.items()}


_COMPARE = {
    "Equals": lambda a, b: a == b,
    "GreaterThan": lambda a, b: a > b,
    "GreaterThanOrEqualTo": lambda a, b: a >= b,
    "LessThan": lambda a, b: a < b,
    "LessThanOrEqualTo": lambda a, b: a <= b,
}


def _comparable(a: Any, b: Any) -> tuple[Any, Any]:
    if (isinstance(a, (int, float)) and isinstance(b, str)) or (isinstance(b, (int, float)) and isinstance(a, str)):
        try:
            return float(a), float(b)
        except ValueError:
            pass
    return a, b


def condition(cond: dict[str, Any], scope: Scope) -> bool:
    kind = cond["Type"]
    if kind in _COMPARE:
        left, right = _comparable(resolve(cond["LeftValue"], scope), resolve(cond["RightValue"], scope))
        try:
            return _COMPARE[kind](left, right)
        except TypeError:
            raise ExpressionError(f"{kind}: cannot compare {left!r} with {right!r}") from None
    if kind == "In":
        return resolve(cond["QueryValue"], scope) in resolve(cond["Values"], scope)
    if kind == "Not":
        return not condition(cond["Condition"], scope)
    if kind == "Or":
        return any(condition(c, scope) for c in cond["Conditions"])
    raise ExpressionError(f"condition type {kind} is not supported")
