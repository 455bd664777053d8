"""A JSON model's shape, checked without parsing it into Python objects.

Parsing untrusted JSON costs far more than the file (an empty list is 2 bytes of JSON and
64 of Python), recurses once per level (Python's parser ends 1,000,000 levels in a
RecursionError, xgboost's crashes) and keeps whatever strings it finds. So first the
brackets and commas are counted (at C speed) to bound what xgboost's parse would take;
then one pass over the strings and brackets, found by a regular expression, checks the
nesting, the length of each string and that brackets balance, and reads the top-level
`version` on the way. Only xgboost parses what passes.
"""

from __future__ import annotations

import re

from model_registry.artifact.errors import ArtifactError
from model_registry.artifact.limits import (
    DEFAULT_MAX_BYTES,
    MAX_DEPTH,
    MAX_STRING_BYTES,
    PARSE_BYTES_PER_CONTAINER,
    PARSE_BYTES_PER_VALUE,
    QUOTE_CHARS,
    quote,
    size_text,
)

Version = tuple[int, int, int]

# A whole string (possessive, so a long one is one fast scan), else a lone quote that
# opens a string never closed, else a bracket.
_TOKEN = re.compile(rb'"[^"\\]*+(?:\\.[^"\\]*+)*+"|["\[\]{}]')
_KEY = re.compile(rb"\s*:")
_VERSION = re.compile(rb"\s*:\s*\[\s*(\d{1,6})\s*,\s*(\d{1,6})\s*,\s*(\d{1,6})\s*\]")
_OPENS, _CLOSES = {ord("["), ord("{")}, {ord("]"): ord("["), ord("}"): ord("{")}


def check_json(name: str, data: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> Version | None:
    """The `version` of a JSON model, once its size, nesting, strings and brackets are fit for xgboost."""
    _check_parse_cost(name, data, max_bytes)
    open_at: list[int] = []
    # Read once every string is checked, so a huge version string is refused by its size.
    version_at: int | None = None
    for match in _TOKEN.finditer(data):
        start, end = match.span()
        token = data[start]
        if token in _OPENS:
            open_at.append(start)
            if len(open_at) > MAX_DEPTH:
                raise ArtifactError(
                    name, f"JSON model nests more than {MAX_DEPTH} deep (at byte {start}); xgboost models nest 8 deep"
                )
        elif token in _CLOSES:
            if not open_at or data[open_at.pop()] != _CLOSES[token]:
                raise ArtifactError(name, f"JSON model does not parse: {chr(token)!r} at byte {start} closes nothing")
        elif end - start == 1:
            raise ArtifactError(name, f"JSON model does not parse: the string at byte {start} never ends")
        else:
            _check_string(name, data, start, end)
            if len(open_at) == 1 and data[start:end] == b'"version"' and _KEY.match(data, end):
                if version_at is not None:
                    raise ArtifactError(name, "JSON model has two top-level 'version' fields")
                version_at = end
    if open_at:
        raise ArtifactError(name, f"JSON model does not parse: it ends with {len(open_at)} brackets open")
    return None if version_at is None else _version_at(name, data, version_at)


def _check_parse_cost(name: str, data: bytes, max_bytes: int) -> None:
    # Counts include brackets and commas inside strings: an overestimate, by little.
    containers = data.count(b"{") + data.count(b"[")
    values = data.count(b",")
    cost = containers * PARSE_BYTES_PER_CONTAINER + values * PARSE_BYTES_PER_VALUE
    if cost > max_bytes:
        raise ArtifactError(
            name,
            f"JSON model has {containers} objects or arrays and {values} more values: xgboost would take"
            f" about {size_text(cost)} to parse it, past the limit of {size_text(max_bytes)}",
        )


def _check_string(name: str, data: bytes, start: int, end: int) -> None:
    length = end - start - 2
    if length > MAX_STRING_BYTES:
        raise ArtifactError(
            name,
            f"JSON model has a string of {size_text(length)} at byte {start}"
            f" ({quote(data[start + 1 : start + 1 + QUOTE_CHARS])}...);"
            f" strings in a model are at most {size_text(MAX_STRING_BYTES)}",
        )


def _version_at(name: str, data: bytes, end: int) -> Version:
    match = _VERSION.match(data, end)
    if not match:
        value = _KEY.match(data, end).end()
        found = quote(data[value : value + QUOTE_CHARS])
        raise ArtifactError(name, f"JSON model's 'version' starts {found}; expected [major, minor, patch]")
    major, minor, patch = (int(part) for part in match.groups())
    return (major, minor, patch)
