"""Legacy pickled XGBoost Boosters, read without trusting the pickle.

A pickle is a program. Two guards, each sufficient alone:
1. a static scan lists every global the pickle names, before any of it runs, and refuses
   anything but `xgboost.core.Booster` and `builtins.bytearray`;
2. the unpickler itself resolves only those two names, and resolves the Booster to a
   plain record of its state: no xgboost code runs while the pickle is read.
The Booster is then rebuilt from the recorded model bytes by xgboost's own deserialiser.
"""

from __future__ import annotations

import io
import pickle
import pickletools
from pathlib import Path

from model_registry.artifact.errors import ArtifactError, UnsafeArtifactError

ALLOWED_GLOBALS = frozenset({("xgboost.core", "Booster"), ("builtins", "bytearray")})
_STRING_OPS = {"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "SHORT_BINSTRING", "BINSTRING", "STRING"}


class BoosterState:
    """What a pickled Booster holds, as data."""

    def __setstate__(self, state: dict) -> None:
        self.state = state


def named_globals(data: bytes) -> list[tuple[str, str]]:
    """Every (module, name) the pickle would import, found without executing it."""
    found: list[tuple[str, str]] = []
    strings: list[str] = []
    for opcode, arg, _ in pickletools.genops(io.BytesIO(data)):
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
    def find_class(self, module: str, name: str):
        if (module, name) == ("xgboost.core", "Booster"):
            return BoosterState
        if (module, name) == ("builtins", "bytearray"):
            return bytearray
        raise pickle.UnpicklingError(f"global {module}.{name} is not allowed")


def read_booster_state(path: Path | str, data: bytes) -> dict:
    """The state dict of a pickled Booster; refuses any other pickle before running it."""
    try:
        names = named_globals(data)
    except Exception as exc:  # pickletools raises a variety of errors on garbage
        raise ArtifactError(path, f"corrupt pickle ({exc})") from None
    refused = sorted({f"{m}.{n}" for m, n in names if (m, n) not in ALLOWED_GLOBALS})
    if refused:
        raise UnsafeArtifactError(
            path,
            "pickle names globals outside the allow-list (xgboost.core.Booster, builtins.bytearray): "
            + ", ".join(refused)
            + "; refused without loading",
        )
    try:
        obj = _AllowListUnpickler(io.BytesIO(data)).load()
    except pickle.UnpicklingError as exc:
        raise UnsafeArtifactError(path, f"refused while unpickling: {exc}") from None
    except Exception as exc:
        raise ArtifactError(path, f"corrupt pickle ({type(exc).__name__}: {exc})") from None
    if not isinstance(obj, BoosterState) or not isinstance(getattr(obj, "state", None), dict):
        raise ArtifactError(path, f"pickle holds {type(obj).__name__}, not an xgboost Booster")
    handle = obj.state.get("handle")
    if not isinstance(handle, (bytes, bytearray)):
        raise ArtifactError(path, "pickled Booster has no model bytes ('handle')")
    return obj.state
