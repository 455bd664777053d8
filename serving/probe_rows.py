"""Rows that probe a compiled model where it can part from xgboost: missing and extreme values,
and every split threshold with its float32 neighbours.

A tree compiler reproduces xgboost only if it compares each feature with each threshold
exactly as xgboost does (float32, `x < threshold` goes left, a missing value takes the
node's default branch). Rows at a threshold and one float32 step either side of it decide
every comparison both ways; missing, zero, ±1e30 and ±inf (all of which the CSV parser
accepts) exercise the default branches and the ends of every range.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import xgboost as xgb

# Values set into one feature at a time, and across a whole row.
SPECIAL_VALUES = (np.nan, 0.0, 1e30, -1e30, np.inf, -np.inf)
BASE_ROWS = 8  # payload rows each special value is set into
MAX_THRESHOLDS = 4000  # (feature, threshold) pairs probed, each with its two float32 neighbours
RANDOM_ROWS = 500
RANDOM_MISSING = 0.1


@dataclass(frozen=True)
class ProbeRows:
    """A float32 matrix (NaN is missing) and, per row, where it came from."""

    matrix: np.ndarray
    sources: list[str]


def split_thresholds(booster: xgb.Booster) -> list[tuple[int, float]]:
    """Every (feature, threshold) the model's trees split on, sorted; none for a linear model."""
    model = json.loads(bytes(booster.save_raw("json")))["learner"]["gradient_booster"]
    trees = model.get("model", model.get("gbtree", {}).get("model", {})).get("trees", [])
    found: set[tuple[int, float]] = set()
    for tree in trees:
        for left, feature, threshold in zip(
            tree["left_children"], tree["split_indices"], tree["split_conditions"], strict=True
        ):
            if left != -1:
                found.add((int(feature), float(np.float32(threshold))))
    return sorted(found)


def probe_rows(booster: xgb.Booster, payload: np.ndarray, seed: int = 0) -> ProbeRows:
    """The payload's rows, then generated ones; deterministic for a model, payload and seed."""
    width = booster.num_features()
    parts: list[tuple[np.ndarray, list[str]]] = [(payload, [f"payload row {i + 1}" for i in range(len(payload))])]
    parts.append(_special_values(payload[:BASE_ROWS], width))
    thresholds = split_thresholds(booster)[:MAX_THRESHOLDS]
    parts.append(_at_thresholds(payload[0], thresholds))
    parts.append(_random_rows(payload, thresholds, width, np.random.default_rng(seed)))
    matrix = np.vstack([m for m, _ in parts if len(m)]).astype(np.float32)
    return ProbeRows(matrix=matrix, sources=[s for _, sources in parts for s in sources])


def _special_values(base: np.ndarray, width: int) -> tuple[np.ndarray, list[str]]:
    rows, sources = [], []
    for value in SPECIAL_VALUES:
        rows.append(np.full(width, value, dtype=np.float32))
        sources.append(f"every feature = {value}")
        for i, row in enumerate(base):
            for j in range(width):
                probe = row.copy()
                probe[j] = value
                rows.append(probe)
                sources.append(f"payload row {i + 1}, feature {j} = {value}")
    return np.array(rows, dtype=np.float32), sources


def _at_thresholds(base: np.ndarray, thresholds: list[tuple[int, float]]) -> tuple[np.ndarray, list[str]]:
    rows, sources = [], []
    for feature, threshold in thresholds:
        at = np.float32(threshold)
        for value, where in ((at, "at"), (np.nextafter(at, np.float32(-np.inf)), "just below"),
                             (np.nextafter(at, np.float32(np.inf)), "just above")):  # fmt: skip
            probe = base.copy()
            probe[feature] = value
            rows.append(probe)
            sources.append(f"payload row 1, feature {feature} {where} split {threshold!r}")
    return np.array(rows, dtype=np.float32).reshape(-1, len(base)), sources


def _random_rows(
    payload: np.ndarray, thresholds: list[tuple[int, float]], width: int, rng: np.random.Generator
) -> tuple[np.ndarray, list[str]]:
    """Each value drawn from the payload's column, or one of the feature's thresholds, or missing."""
    by_feature: dict[int, list[float]] = {}
    for feature, threshold in thresholds:
        by_feature.setdefault(feature, []).append(threshold)
    rows = payload[rng.integers(0, len(payload), RANDOM_ROWS)].copy()
    for j in range(width):
        splits = by_feature.get(j)
        if splits:
            use = rng.random(RANDOM_ROWS) < 0.5
            rows[use, j] = rng.choice(np.array(splits, dtype=np.float32), int(use.sum()))
        rows[rng.random(RANDOM_ROWS) < RANDOM_MISSING, j] = np.nan
    return rows, [f"random row {i + 1} (seed-drawn payload values, thresholds, missing)" for i in range(RANDOM_ROWS)]
