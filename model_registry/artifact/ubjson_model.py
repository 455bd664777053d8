"""A UBJSON model's shape, walked before xgboost parses it.

xgboost's UBJSON reader trusts the file: it recurses once per level (1,000,000 levels
crash it), and allocates whatever a length or count says before finding the bytes are
not there. So one walk, without recursion and without building any values, checks that
every marker is one UBJSON defines, that no length or count claims more bytes than
follow, that strings are short and nesting shallow, and that what xgboost's parse would
allocate stays within the limit, and reads the top-level `version`. Typed arrays of
numbers (most of a model) are skipped whole.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from model_registry.artifact.errors import ArtifactError
from model_registry.artifact.json_model import Version
from model_registry.artifact.limits import (
    DEFAULT_MAX_BYTES,
    MAX_DEPTH,
    MAX_STRING_BYTES,
    PARSE_BYTES_PER_CONTAINER,
    PARSE_BYTES_PER_VALUE,
    size_text,
)

_INTS = {ord("i"): ">b", ord("U"): ">B", ord("I"): ">h", ord("l"): ">i", ord("L"): ">q"}
# Values of a fixed size: null, no-op, true, false, the integers, floats and a char.
_FIXED = {ord("Z"): 0, ord("N"): 0, ord("T"): 0, ord("F"): 0, ord("d"): 4, ord("D"): 8, ord("C"): 1} | {
    marker: struct.calcsize(fmt) for marker, fmt in _INTS.items()
}
_TEXT = {ord("S"), ord("H")}
_CLOSE = {ord("["): ord("]"), ord("{"): ord("}")}


@dataclass
class _Container:
    close: int
    left: int | None  # elements still to come, when the count was given
    key: bytes | None  # its key in the object holding it


class _Walk:
    def __init__(self, name: str, data: bytes, max_bytes: int):
        self.name = name
        self.data = data
        self.pos = 0
        self.max_bytes = max_bytes
        self.parse_bytes = 0

    def charge(self, parse_bytes: int) -> None:
        """Count what xgboost's parse allocates for the value just read."""
        self.parse_bytes += parse_bytes
        if self.parse_bytes > self.max_bytes:
            raise self.fail(f"xgboost would take more than the limit of {size_text(self.max_bytes)} to parse it")

    def fail(self, what: str) -> ArtifactError:
        return ArtifactError(self.name, f"UBJSON model: {what} (at byte {self.pos} of {len(self.data)})")

    def peek(self) -> int | None:
        return self.data[self.pos] if self.pos < len(self.data) else None

    def byte(self) -> int:
        if self.pos >= len(self.data):
            raise self.fail("it ends inside a value")
        self.pos += 1
        return self.data[self.pos - 1]

    def skip(self, size: int, what: str) -> None:
        left = len(self.data) - self.pos
        if size > left:
            raise self.fail(f"{what} claims {size_text(size)}, more than the {size_text(left)} left")
        self.pos += size

    def take(self, size: int, what: str) -> bytes:
        """The next `size` bytes: for short things only (integers, keys), as it copies them."""
        self.skip(size, what)
        return self.data[self.pos - size : self.pos]

    def integer(self, marker: int) -> int:
        if marker not in _INTS:
            raise self.fail(f"expected an integer marker, found byte 0x{marker:02x}")
        (value,) = struct.unpack(_INTS[marker], self.take(struct.calcsize(_INTS[marker]), "an integer"))
        return value

    def length(self, what: str) -> int:
        size = self.integer(self.byte())
        if size < 0:
            raise self.fail(f"{what} has a negative length ({size})")
        return size

    def text(self, what: str) -> bytes:
        size = self.length(what)
        if size > MAX_STRING_BYTES:
            raise self.fail(f"{what} of {size_text(size)}; model strings are at most {size_text(MAX_STRING_BYTES)}")
        return self.take(size, what)


def check_ubjson(
    name: str, data: bytes, max_bytes: int = DEFAULT_MAX_BYTES, version_path: tuple[bytes, ...] = (b"version",)
) -> Version | None:
    """The version (at `version_path`) of a UBJSON model, once every length, count and level
    is fit for xgboost."""
    walk = _Walk(name, data, max_bytes)
    open_: list[_Container] = []
    version_at: int | None = None
    _value(walk, walk.byte(), open_, None)
    while open_:
        top = open_[-1]
        if top.left == 0:
            open_.pop()
            continue
        if top.left is None and walk.peek() == top.close:
            walk.pos += 1
            open_.pop()
            continue
        if top.left is not None:
            top.left -= 1
        key = walk.text("a key") if top.close == ord("}") else None
        if key is not None and (*(c.key for c in open_[1:]), key) == version_path:
            version_at = walk.pos
        _value(walk, walk.byte(), open_, key)
    return None if version_at is None else _version_at(walk, version_at)


def _value(walk: _Walk, marker: int, open_: list[_Container], key: bytes | None) -> None:
    if marker in _FIXED:
        walk.skip(_FIXED[marker], "a number")
        walk.charge(PARSE_BYTES_PER_VALUE)
    elif marker in _TEXT:
        walk.text("a string")
        walk.charge(PARSE_BYTES_PER_VALUE)
    elif marker in _CLOSE:
        _open(walk, open_, _CLOSE[marker], key)
    else:
        raise walk.fail(f"byte 0x{marker:02x} is not a UBJSON value marker")


def _open(walk: _Walk, open_: list[_Container], close: int, key: bytes | None) -> None:
    if len(open_) >= MAX_DEPTH:
        raise walk.fail(f"it nests more than {MAX_DEPTH} deep; xgboost models nest 8 deep")
    typed, count = _header(walk)
    walk.charge(PARSE_BYTES_PER_CONTAINER)
    if typed is None:
        # Every element takes a byte at least: a count past the bytes left is a lie.
        if count is not None and count > len(walk.data) - walk.pos:
            raise walk.fail(f"a container claims {count} elements, more than the bytes left")
        open_.append(_Container(close, count, key))
    else:
        # xgboost keeps a typed array as one packed array: as many bytes as in the file.
        walk.skip(count * _FIXED[typed], f"a typed array of {count} elements")
        walk.charge(count * _FIXED[typed])


def _header(walk: _Walk) -> tuple[int | None, int | None]:
    """A container's optional element type (`$`) and count (`#`); a type needs a count."""
    typed = None
    if walk.peek() == ord("$"):
        walk.pos += 1
        typed = walk.byte()
        # Elements of no size (null, true...) would let a count claim any number of them.
        if not _FIXED.get(typed):
            raise walk.fail(f"a typed container of byte 0x{typed:02x}; xgboost writes typed arrays of numbers")
    if walk.peek() != ord("#"):
        if typed is not None:
            raise walk.fail("a typed container without a count")
        return None, None
    walk.pos += 1
    return typed, walk.length("a container count")


def _version_at(walk: _Walk, pos: int) -> Version:
    """The `[major, minor, patch]` at `pos`, in a model already walked (so well formed)."""
    walk.pos = pos
    ints: list[int] = []
    if walk.byte() == ord("["):
        typed, count = _header(walk)
        while len(ints) < 4 and (len(ints) < count if count is not None else walk.peek() != ord("]")):
            marker = typed if typed is not None else walk.byte()
            if marker not in _INTS:
                break
            ints.append(walk.integer(marker))
    if len(ints) != 3:
        walk.pos = pos
        raise walk.fail("the 'version' field is not [major, minor, patch]")
    return (ints[0], ints[1], ints[2])
