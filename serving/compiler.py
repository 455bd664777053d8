"""Compiling a model to native code: treelite reads it, tl2cgen writes C and gcc builds it.

Libraries are cached by the model's content and the toolchain versions, built under a file
lock so concurrent workers compile once, and moved into place atomically.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
from pathlib import Path

import tl2cgen
import treelite
import xgboost as xgb


def default_cache() -> Path:
    """Read when a model is compiled, not at import, so a test session's own cache takes effect."""
    return Path(os.environ.get("RTB_MLOPS_CACHE", Path.home() / ".cache" / "rtb-mlops")) / "compiled"


def compiled_library(booster: xgb.Booster, cache_dir: Path | None = None) -> Path:
    cache_dir = cache_dir or default_cache()
    model_json = bytes(booster.save_raw("json"))
    key = hashlib.sha256(model_json + f"{treelite.__version__}/{tl2cgen.__version__}".encode()).hexdigest()[:24]
    cache_dir.mkdir(parents=True, exist_ok=True)
    target = cache_dir / f"model-{key}.so"
    if target.exists():
        return target
    with open(cache_dir / f".{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if target.exists():
            return target
        with tempfile.TemporaryDirectory(dir=cache_dir) as tmp:
            source = Path(tmp) / "model.json"
            source.write_bytes(model_json)
            model = treelite.frontend.load_xgboost_model(str(source))
            built = Path(tmp) / "model.so"
            tl2cgen.export_lib(
                model, toolchain="gcc", libpath=str(built), params={"parallel_comp": os.cpu_count() or 1}
            )
            os.replace(built, target)
    return target
