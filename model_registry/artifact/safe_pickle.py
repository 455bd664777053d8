"""Legacy pickled XGBoost Boosters, read without trusting the pickle.

A pickle is a program. Two guards, each sufficient alone:
1. a static scan lists every global the pickle names, before any of it runs, and refuses
   anything but `xgboost.core.Booster` and `builtins.bytearray`;
2. the unpickler itself resolves only those two names, and resolves the Booster to a
   plain record of its state: no xgboost code runs while the pickle is read.
The Booster is then rebuilt from the recorded model bytes by xgboost's own deserialiser.

The allowed names can still ask for memory: `bytearray(1_500_000_000)` is a 170-byte
pickle. Every bytearray is charged to one budget, the size limit, before it is made; and
each opcode makes at most one object, so the static scan bounds their number.
"""

from __future__ import annotations

import io
import pickle
import pickletools
from pathlib import Path

from model_registry.artifact.errors import ArtifactError, UnsafeArtifactError
from model_registry.artifact.limits import DEFAULT_MAX_BYTES, clip, listed, size_text

ALLOWED_GLOBALS = frozenset({("xgboost.core", "Booster"), ("builtins", "bytearray")})
# A pickled Booster is about 70 opcodes plus two per feature name: room for 50,000 names.
MAX_OPCODES = 100_000
_STRING_OPS = {"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "SHORT_BINSTRING", "BINSTRING", "STRING"}


class _TooManyOpcodes(ValueError):
    pass


class BoosterState:
    """What a pickled Booster holds, as data."""

    def __setstate__(self, state: dict) -> None:
        self.state = state


def named_globals(data: bytes) -> list[tuple[str, str]]:
    """Every (module, name) the pickle would import, found without executing it."""
    found: list[tuple[str, str]] = []
    strings: list[str] = []
    for count, (opcode, arg, _) in enumerate(pickletools.genops(io.BytesIO(data)), 1):
        if count > MAX_OPCODES:
            raise _TooManyOpcodes(f"pickle has more than {MAX_OPCODES} opcodes; a pickled Booster has far fewer")
        if opcode.name in _STRING_OPS:
            strings.append(arg if isinstance(arg, str) else str(arg))
        elif opcode.name in ("GLOBAL", "INST"):
            module, _, name = str(arg).partition(" ")
            found.append((module, name))
        elif opcode.name == "STACK_GLOBAL":
            # The module and name are the last two strings pushed; a pickle that builds them
            # any other way is refused rather than guessed at.
            if len(strings) < 2:
                found.append(("<computed>", "<computed>"))
            else:
                found.append((strings[-2], strings[-1]))
    return found


class _AllowListUnpickler(pickle.Unpickler):
    def __init__(self, path: Path | str, data: bytes, max_bytes: int):
        super().__init__(io.BytesIO(data))
        self._path = path
        self._max_bytes = max_bytes
        self._budget = max_bytes

    def find_class(self, module: str, name: str):
        if (module, name) == ("xgboost.core", "Booster"):
            return BoosterState
        if (module, name) == ("builtins", "bytearray"):
            return self._bytearray
        raise pickle.UnpicklingError(f"global {module}.{name} is not allowed")

    def _bytearray(self, *args: object) -> bytearray:
        """`bytearray` as the pickle calls it, once what it would allocate fits the budget."""
        size = _allocation(args)
        if size > self._budget:
            raise ArtifactError(
                self._path,
                f"pickle asks bytearray for {size_text(size)}; the limit of {size_text(self._max_bytes)}"
                f" on all it allocates has {size_text(self._budget)} left",
            )
        self._budget -= size
        # The snapshot's bytes are only read, never changed: keeping them as they are spares
        # a copy the size of the model.
        return args[0] if isinstance(args[0], bytes) else bytearray(*args)


def _allocation(args: tuple[object, ...]) -> int:
    """What bytearray(*args) allocates, for the forms a pickle of a Booster can hold: its
    bytes (protocols 3 and up; older ones name `__builtin__.bytearray`, refused above), or
    a bare size."""
    if len(args) == 1 and isinstance(args[0], int):
        return args[0]
    if len(args) == 1 and isinstance(args[0], (bytes, bytearray)):
        return len(args[0])
    found = ", ".join(type(arg).__name__ for arg in args) or "nothing"
    raise pickle.UnpicklingError(f"bytearray called with ({found}); a pickled Booster passes bytes")


def read_booster_state(path: Path | str, data: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> dict:
    """The state dict of a pickled Booster; refuses any other pickle before running it."""
    try:
        names = named_globals(data)
    except _TooManyOpcodes as exc:
        raise ArtifactError(path, str(exc)) from None
    except MemoryError:
        raise
    except Exception as exc:  # pickletools raises a variety of errors on garbage
        raise ArtifactError(path, f"corrupt pickle ({clip(str(exc))})") from None
    refused = sorted({f"{m}.{n}" for m, n in names if (m, n) not in ALLOWED_GLOBALS})
    if refused:
        raise UnsafeArtifactError(
            path,
            "pickle names globals outside the allow-list (xgboost.core.Booster, builtins.bytearray): "
            + listed(refused)
            + "; refused without loading",
        )
    try:
        obj = _AllowListUnpickler(path, data, max_bytes).load()
    except (ArtifactError, MemoryError):
        raise
    except pickle.UnpicklingError as exc:
        raise UnsafeArtifactError(path, f"refused while unpickling: {clip(str(exc))}") from None
    except Exception as exc:
        raise ArtifactError(path, f"corrupt pickle ({type(exc).__name__}: {clip(str(exc))})") from None
    if not isinstance(obj, BoosterState) or not isinstance(getattr(obj, "state", None), dict):
        raise ArtifactError(path, f"pickle holds {type(obj).__name__}, not an xgboost Booster")
    handle = obj.state.get("handle")
    if not isinstance(handle, (bytes, bytearray)):
        raise ArtifactError(path, "pickled Booster has no model bytes ('handle')")
    return obj.state
