"""How much an artifact may make us allocate, and how refusals show sizes and values.

One limit bounds everything an artifact can make validation allocate: the bytes its
archive inflates to, and any allocation its content asks for (a pickled `bytearray(n)`).
Real RTB models are megabytes at most; the default is far above that, and low enough that
refusing anything larger fits in a 2 GB address space beside the interpreter and xgboost
(about 0.75 GB). A model near the limit still needs a few times its size to load.
"""

from __future__ import annotations

import os
import re

from model_registry.errors import UserError

DEFAULT_MAX_BYTES = 1024**3
MAX_BYTES_ENV = "RTB_MLOPS_ARTIFACT_MAX_BYTES"

# The shape of a model file, whatever its size. xgboost's parsers recurse once per level
# (and crash on deep nesting); its own models nest at most 8 deep (a dart booster's trees).
MAX_DEPTH = 32
# Model strings are names and parameters; xgboost keeps no long text in a model.
MAX_STRING_BYTES = 64 * 1024
# What xgboost's parsers allocate per value, beyond the file: measured for xgboost 3.0 on
# JSON as about 80 bytes an object, 50 an array, 35 a number; so a 100 KB file of `{},`
# takes 3 MB to parse. Real models parse into about 8 times their JSON.
PARSE_BYTES_PER_CONTAINER = 128
PARSE_BYTES_PER_VALUE = 48

_UNITS = {"": 1, "k": 1024, "kib": 1024, "m": 1024**2, "mib": 1024**2, "g": 1024**3, "gib": 1024**3}
_SIZE = re.compile(r"\s*(\d+)\s*([a-z]*)\s*", re.IGNORECASE)
# How much of an untrusted value a message may quote, and of another library's message
# about it (xgboost's parse errors quote the model).
QUOTE_CHARS = 60
CLIP_CHARS = 300


def parse_size(text: str) -> int:
    """Bytes from '1073741824', '512MiB', '1G' and the like (binary units)."""
    match = _SIZE.fullmatch(text)
    unit = match.group(2).lower() if match else None
    if unit not in _UNITS or int(match.group(1)) == 0:
        raise UserError(f"{text[:QUOTE_CHARS]!r} is not a size: expected bytes, e.g. 1073741824 or 1GiB")
    return int(match.group(1)) * _UNITS[unit]


def max_bytes_from_env() -> int:
    """The limit from $RTB_MLOPS_ARTIFACT_MAX_BYTES, or the default."""
    text = os.environ.get(MAX_BYTES_ENV)
    if not text:
        return DEFAULT_MAX_BYTES
    try:
        return parse_size(text)
    except UserError as exc:
        raise UserError(f"{MAX_BYTES_ENV}: {exc}") from None


def size_text(size: int) -> str:
    """Exact bytes, for grepping and comparing, and a readable size beside them."""
    for unit, scale in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if size >= scale:
            return f"{size} bytes ({size / scale:.1f} {unit})"
    return "1 byte" if size == 1 else f"{size} bytes"


def quote(value: bytes | str, limit: int = QUOTE_CHARS) -> str:
    """A value from the artifact, as a message may show it: never more than `limit` characters."""
    shown = repr(value[:limit])
    if len(value) <= limit:
        return shown
    return f"{shown}... ({len(value) - limit} more {'bytes' if isinstance(value, bytes) else 'characters'})"


def listed(values: list[str], limit: int = 5) -> str:
    """Values from the artifact, each quoted briefly: the first `limit`, and how many more."""
    shown = ", ".join(quote(value) for value in values[:limit])
    return shown + (f" and {len(values) - limit} more" if len(values) > limit else "")


def clip(text: str, limit: int = CLIP_CHARS) -> str:
    """Another library's message, cut to `limit` characters with a note of what was cut."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit} more characters)"
