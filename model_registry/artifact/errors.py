"""The error every artifact check raises: which file, and what is wrong with it."""

from __future__ import annotations

from pathlib import Path

from model_registry.errors import UserError


class ArtifactError(UserError):
    def __init__(self, path: Path | str, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


class UnsafeArtifactError(ArtifactError):
    """The artifact tries to run code when loaded; it was refused before anything ran."""
