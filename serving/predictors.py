"""Two predictors behind one interface: xgboost's `inplace_predict`, and native code.

The native library comes from tl2cgen; its generated C exports
`void predict(union Entry* data, int pred_margin, float* result)` for one row, where a
missing value is the int -1 in the union. Calling that directly costs ~2 µs a row, where
tl2cgen's batch Predictor spends ~75 µs building a DMatrix for a single row.
"""

from __future__ import annotations

import ctypes
import logging
from pathlib import Path
from typing import Protocol

import numpy as np
import xgboost as xgb

log = logging.getLogger("rtb_mlops.serving")


class Predictor(Protocol):
    name: str
    num_features: int

    def predict(self, rows: np.ndarray) -> np.ndarray:
        """Probabilities (float32, one per row) for a float32 matrix with NaN as missing."""


class XGBoostPredictor:
    name = "xgboost"

    def __init__(self, booster: xgb.Booster):
        self.booster = booster
        self.booster.set_param({"nthread": 1})
        self.num_features = booster.num_features()

    def predict(self, rows: np.ndarray) -> np.ndarray:
        return self.booster.inplace_predict(rows).astype(np.float32, copy=False)


class CompiledPredictor:
    """Single-threaded by design: one per worker process (tl2cgen's own rule).

    Rows are copied one at a time into a reused ctypes buffer; a missing value is written
    as the int -1 through an int view of the same memory, as the generated code expects.
    The generated code adds each tree's leaf to `result`, so it is zeroed before each row.
    """

    name = "compiled"

    def __init__(self, library: Path):
        self._lib = ctypes.CDLL(str(library))
        for symbol, restype in (("get_num_feature", ctypes.c_int), ("get_num_target", ctypes.c_int)):
            getattr(self._lib, symbol).restype = restype
        self._lib.get_leaf_output_type.restype = ctypes.c_char_p
        if self._lib.get_num_target() != 1 or self._lib.get_leaf_output_type() != b"float32":
            raise RuntimeError(f"{library}: not a single-target float32 model library")
        self.num_features = self._lib.get_num_feature()
        self._row = (ctypes.c_float * self.num_features)()
        self._bits = (ctypes.c_int32 * self.num_features).from_buffer(self._row)
        self._result = ctypes.c_float()
        self._predict = self._lib.predict
        self._predict.argtypes = [ctypes.POINTER(ctypes.c_float), ctypes.c_int, ctypes.POINTER(ctypes.c_float)]
        self._predict.restype = None

    def predict(self, rows: np.ndarray) -> np.ndarray:
        row, bits, result, predict = self._row, self._bits, self._result, self._predict
        out = []
        for values in rows.tolist():
            row[:] = values
            if sum(values) != sum(values):  # NaN anywhere (or inf - inf: then checked exactly)
                for j, v in enumerate(values):
                    if v != v:
                        bits[j] = -1
            result.value = 0.0
            predict(row, 0, result)
            out.append(result.value)
        return np.array(out, dtype=np.float32)


def load_predictor(booster: xgb.Booster, kind: str = "auto", cache_dir: Path | None = None) -> Predictor:
    """`compiled` or `xgboost`; `auto` compiles when it can and says so when it cannot."""
    if kind == "xgboost":
        return XGBoostPredictor(booster)
    try:
        from serving.compiler import compiled_library

        return CompiledPredictor(compiled_library(booster, cache_dir))
    except Exception as exc:
        if kind == "compiled":
            raise
        log.warning("compiled predictor unavailable (%s: %s); falling back to xgboost", type(exc).__name__, exc)
        return XGBoostPredictor(booster)
