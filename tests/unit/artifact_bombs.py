"""Hostile artifacts, built cheaply.

A gzip file may hold many gzip members, and reading it inflates them all, one after the
other. So a member holding a 1 MiB run of one byte, compressed once (about 1 KiB) and
repeated, makes an archive that inflates to gigabytes from a few megabytes, and building it
here never compresses (or holds) more than one run.
"""

from __future__ import annotations

import gzip
import pickle
import tarfile
from pathlib import Path

RUN = 1024 * 1024
# A tar stream is made of 512-byte blocks and ends with two empty ones.
BLOCK = 512

# Content as pieces: (bytes, how many times in a row).
Content = list[tuple[bytes, int]]


def _gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def _runs(byte: bytes, size: int) -> bytes:
    """A gzip stream of `size` copies of `byte`, compressing at most one run."""
    whole, rest = divmod(size, RUN)
    return _gz(byte * RUN) * whole + (_gz(byte * rest) if rest else b"")


def _content_size(content: Content) -> int:
    return sum(len(piece) * times for piece, times in content)


def _content(content: Content) -> bytes:
    out = []
    for piece, times in content:
        if len(piece) == 1:
            out.append(_runs(piece, times))
        else:
            out.append(_gz(piece) * times)
    return b"".join(out)


def write_bomb(path: Path, members: list[tuple[str, Content]]) -> Path:
    """A tar.gz whose members hold `content`, in order; names may repeat."""
    with open(path, "wb") as out:
        for name, content in members:
            info = tarfile.TarInfo(name)
            info.size = _content_size(content)
            info.mode = 0o644
            out.write(_gz(info.tobuf(format=tarfile.USTAR_FORMAT)))
            out.write(_content(content))
            out.write(_gz(b"\0" * (-info.size % BLOCK)))
        out.write(_gz(b"\0" * 2 * BLOCK))
    return path


def zeros(size: int) -> Content:
    return [(b"\0", size)]


def write_pax_bomb(path: Path, header_size: int) -> Path:
    """A tar.gz that opens with a pax extended header claiming `header_size` bytes of records."""
    info = tarfile.TarInfo("././@PaxHeader")
    info.type = tarfile.XHDTYPE
    info.size = header_size
    with open(path, "wb") as out:
        out.write(_gz(info.tobuf(format=tarfile.USTAR_FORMAT)))
        out.write(_runs(b"\0", header_size))
    return path


class Call:
    """Pickles as `func(*args)`: how a pickle calls a global."""

    def __init__(self, func: object, args: tuple):
        self.func = func
        self.args = args

    def __reduce__(self):
        return (self.func, self.args)


def bytearray_pickle(size: int) -> bytes:
    """A pickle that calls the allow-listed `bytearray` with a size: the allocation bomb."""
    return pickle.dumps({"handle": Call(bytearray, (size,))}, protocol=4)


def nested_json(depth: int) -> bytes:
    return b'{"learner": ' + b"[" * depth + b"]" * depth + b', "version": [3, 0, 5]}'


def _short_text(text: str) -> bytes:
    return b"\x8c" + bytes([len(text)]) + text.encode()


def booster_pickle(handle_size: int) -> Content:
    """A pickled Booster (protocol 4) whose snapshot is `handle_size` zero bytes, as pieces."""
    head = (
        b"\x80\x04"
        + _short_text("xgboost.core")
        + _short_text("Booster")
        + b"\x93)\x81}"  # STACK_GLOBAL, EMPTY_TUPLE, NEWOBJ, EMPTY_DICT
        + _short_text("handle")
        + _short_text("builtins")
        + _short_text("bytearray")
        + b"\x93\x8e"  # STACK_GLOBAL, BINBYTES8
        + handle_size.to_bytes(8, "little")
    )
    tail = b"\x85Rsb."  # TUPLE1, REDUCE, SETITEM, BUILD, STOP
    return [(head, 1), (b"\0", handle_size), (tail, 1)]
