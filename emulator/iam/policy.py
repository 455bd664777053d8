"""Evaluating identity policies as IAM does, for one request context.

An explicit Deny in any statement wins; otherwise an Allow is needed; otherwise the request
is implicitly denied. Action/NotAction, Resource/NotResource, wildcards (`*`, `?`) and the
condition operators our templates and the managed policies we mimic use (String*, Arn*, Bool,
Null, their IfExists forms, ForAnyValue/ForAllValues).
Reference: IAM User Guide, "Policy evaluation logic" and "IAM JSON policy elements: Condition
operators".
"""

from __future__ import annotations

import fnmatch
import json
import re
from dataclasses import dataclass, field
from enum import Enum
from functools import lru_cache
from typing import Any


class Effect(Enum):
    ALLOW = "allow"
    DENY = "deny"  # explicit
    IMPLICIT_DENY = "implicit"


@dataclass(frozen=True)
class Check:
    """One authorisation: an action on a resource ARN, with the request's condition keys."""

    action: str  # e.g. "sagemaker:CreateEndpointConfig"
    resource: str  # an ARN, or "*" for actions without resource-level permissions
    context: dict[str, list[str]] = field(default_factory=dict)


@lru_cache(maxsize=4096)
def _pattern(glob: str, case_sensitive: bool) -> re.Pattern:
    flags = 0 if case_sensitive else re.IGNORECASE
    return re.compile(fnmatch.translate(glob), flags)


def _like(value: str, glob: str, case_sensitive: bool = True) -> bool:
    # fnmatch's [seq] has no meaning in IAM; escape brackets so they match literally.
    glob = glob.replace("[", "[[]")
    return _pattern(glob, case_sensitive).fullmatch(value) is not None


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _action_matches(statement: dict, action: str) -> bool:
    if "Action" in statement:
        return any(_like(action, a, case_sensitive=False) for a in as_list(statement["Action"]))
    return not any(_like(action, a, case_sensitive=False) for a in as_list(statement.get("NotAction", [])))


def _resource_matches(statement: dict, resource: str) -> bool:
    if "Resource" in statement:
        return any(_like(resource, r) for r in as_list(statement["Resource"]))
    return not any(_like(resource, r) for r in as_list(statement.get("NotResource", [])))


def _compare(operator: str, actual: str, wanted: str) -> bool:
    base = operator.removesuffix("IfExists")
    if base in ("StringEquals", "ArnEquals"):
        return actual == wanted
    if base in ("StringLike", "ArnLike"):
        return _like(actual, wanted)
    if base == "StringEqualsIgnoreCase":
        return actual.lower() == wanted.lower()
    if base in ("StringNotEquals", "ArnNotEquals"):
        return actual != wanted
    if base in ("StringNotLike", "ArnNotLike"):
        return not _like(actual, wanted)
    if base == "Bool":
        return actual.lower() == str(wanted).lower()
    raise UnsupportedCondition(operator)


class UnsupportedCondition(ValueError):
    """A condition operator this evaluator does not know: refused rather than guessed."""


def _condition_holds(operator: str, key: str, wanted: Any, context: dict[str, list[str]]) -> bool:
    qualifier, _, op = operator.rpartition(":")
    values = context.get(key) or context.get(key.lower())
    wanted_list = [str(w) for w in as_list(wanted)]
    if op == "Null":
        return (values is None) == (wanted_list[0].lower() == "true")
    negated = op.removesuffix("IfExists").startswith(("StringNot", "ArnNot"))
    if values is None:
        # A key absent from the request: only IfExists, ForAllValues and negated operators hold.
        return op.endswith("IfExists") or qualifier == "ForAllValues" or negated
    if qualifier == "ForAllValues":
        return all(any(_compare(op, v, w) for w in wanted_list) for v in values)
    if negated:
        return all(_compare(op, v, w) for v in values for w in wanted_list)
    return any(_compare(op, v, w) for v in values for w in wanted_list)


def _conditions_hold(statement: dict, context: dict[str, list[str]]) -> bool:
    return all(
        _condition_holds(operator, key, wanted, context)
        for operator, pairs in (statement.get("Condition") or {}).items()
        for key, wanted in pairs.items()
    )


def statements(document: str | dict) -> list[dict]:
    doc = json.loads(document) if isinstance(document, str) else document
    return [s for s in as_list(doc.get("Statement", [])) if isinstance(s, dict)]


def evaluate(documents: list[str | dict], check: Check) -> Effect:
    allowed = False
    for document in documents:
        for statement in statements(document):
            if not (_action_matches(statement, check.action) and _resource_matches(statement, check.resource)):
                continue
            if not _conditions_hold(statement, check.context):
                continue
            if statement.get("Effect") == "Deny":
                return Effect.DENY
            allowed = allowed or statement.get("Effect") == "Allow"
    return Effect.ALLOW if allowed else Effect.IMPLICIT_DENY


def denial_message(principal: str, check: Check, effect: Effect) -> str:
    """As AWS words an AccessDenied."""
    why = (
        "with an explicit deny in an identity-based policy"
        if effect is Effect.DENY
        else f"because no identity-based policy allows the {check.action} action"
    )
    return f"User: {principal} is not authorized to perform: {check.action} on resource: {check.resource} {why}"
