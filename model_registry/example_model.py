"""A deterministic example bid-filtering model, built on this machine.

The data imitate the bid-request log the public RTB guidance trains on: the same seven
features, indices as a StringIndexer would give them (0 = most frequent value), skewed
popularity, and a rare positive label ("this request is worth sending to the bidders").
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from model_registry.artifact.tarball import write_tar_gz
from model_registry.artifact.validate import MODEL_FILE_NAME, sha256_file

FEATURES = ("dow", "hour", "IndexAdvertiserID", "IndexDomain", "IndexRegionID", "IndexCityID", "device_type_id")
# Distinct values per indexed feature, and how skewed their popularity is (Zipf exponent).
_CARDINALITY = {
    "IndexAdvertiserID": (60, 1.3),
    "IndexDomain": (3000, 1.15),
    "IndexRegionID": (50, 1.4),
    "IndexCityID": (600, 1.2),
}
PARAMS = {
    "objective": "binary:logistic",
    "max_depth": 5,
    "eta": 0.2,
    "eval_metric": "auc",
    "tree_method": "hist",
    "seed": 7,
    "nthread": 1,
}
ROUNDS = 50


@dataclass(frozen=True)
class ExampleModel:
    model_path: str
    payload_path: str
    rows_path: str
    sha256: str
    auc: float
    positive_rate: float
    train_rows: int
    test_rows: int


def _zipf_index(rng: np.random.Generator, n: int, size: int, skew: float) -> np.ndarray:
    weights = 1.0 / np.arange(1, n + 1) ** skew
    return rng.choice(n, size=size, p=weights / weights.sum()).astype(np.float32)


def bid_requests(rows: int, seed: int = 7) -> pd.DataFrame:
    """A synthetic OpenRTB-like log with a `useful` label."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "dow": rng.integers(0, 7, rows),
            "hour": rng.integers(0, 24, rows),
            **{name: _zipf_index(rng, n, rows, skew) for name, (n, skew) in _CARDINALITY.items()},
            "device_type_id": rng.choice(6, size=rows, p=[0.05, 0.45, 0.3, 0.12, 0.05, 0.03]),
        }
    )
    # Each advertiser and domain has its own appetite; evenings, weekends and mobile
    # devices convert better; long-tail domains are mostly noise.
    advertiser_effect = rng.normal(0, 0.8, _CARDINALITY["IndexAdvertiserID"][0])
    domain_effect = rng.normal(0, 1.0, _CARDINALITY["IndexDomain"][0])
    region_effect = rng.normal(0, 0.3, _CARDINALITY["IndexRegionID"][0])
    logit = (
        -4.2
        + advertiser_effect[df["IndexAdvertiserID"].astype(int)]
        + domain_effect[df["IndexDomain"].astype(int)] * np.exp(-df["IndexDomain"] / 800)
        + region_effect[df["IndexRegionID"].astype(int)]
        + 0.6 * np.sin((df["hour"] - 14) / 24 * 2 * np.pi)
        + 0.3 * (df["dow"] >= 5)
        + np.array([0.0, 0.5, 0.2, -0.3, 0.1, -0.5])[df["device_type_id"]]
    )
    df["useful"] = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    return df


def _csv_row(values: np.ndarray) -> bytes:
    return ",".join(f"{v:g}" for v in values).encode()


def build_example_model(out_dir: Path, rows: int = 100_000, payload_rows: int = 100) -> ExampleModel:
    df = bid_requests(rows)
    train, test = train_test_split(df, test_size=0.2, random_state=7, stratify=df["useful"])
    features = list(FEATURES)
    dtrain = xgb.DMatrix(train[features], label=train["useful"])
    booster = xgb.train(PARAMS, dtrain, num_boost_round=ROUNDS)
    # Served models take plain CSV columns; names would only make the container check them.
    booster.feature_names = None
    test_x = test[features].to_numpy(dtype=np.float32)
    auc = float(roc_auc_score(test["useful"], booster.inplace_predict(test_x)))

    out_dir.mkdir(parents=True, exist_ok=True)
    model_path = out_dir / "model.tar.gz"
    write_tar_gz(model_path, {MODEL_FILE_NAME: bytes(booster.save_raw("json"))})
    sample = test_x[:payload_rows]
    rows_path = out_dir / "rows.csv"
    rows_path.write_bytes(b"\n".join(_csv_row(r) for r in sample) + b"\n")
    payload_path = out_dir / "payload.tar.gz"
    write_tar_gz(payload_path, {f"request-{i:04d}.csv": _csv_row(r) + b"\n" for i, r in enumerate(sample)})
    result = ExampleModel(
        model_path=str(model_path),
        payload_path=str(payload_path),
        rows_path=str(rows_path),
        sha256=sha256_file(model_path),
        auc=round(auc, 4),
        positive_rate=round(float(df["useful"].mean()), 4),
        train_rows=len(train),
        test_rows=len(test),
    )
    (out_dir / "metrics.json").write_text(json.dumps(asdict(result), indent=2) + "\n")
    return result
