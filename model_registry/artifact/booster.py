"""Loading a classified model file into an xgboost Booster, and what the model is."""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass

import xgboost as xgb

from model_registry.artifact.errors import ArtifactError
from model_registry.artifact.limits import clip
from model_registry.artifact.model_file import ModelFile, ModelFormat


@dataclass(frozen=True)
class ModelFacts:
    objective: str
    num_features: int
    num_trees: int
    feature_names: tuple[str, ...] | None


def load_booster(model: ModelFile) -> xgb.Booster:
    raw = model.model_bytes()
    try:
        if model.format is ModelFormat.PICKLE:
            # What unpickling a Booster does, minus the pickle: xgboost rebuilds the model
            # from its own snapshot bytes, and nothing else from the file is kept.
            booster = xgb.Booster.__new__(xgb.Booster)
            with warnings.catch_warnings():
                # xgboost warns that old snapshots should be re-saved; the compatibility
                # report says so, and `rtb-mlops artifact convert` does it.
                warnings.simplefilter("ignore", UserWarning)
                booster.__setstate__({"handle": raw})
        else:
            booster = xgb.Booster()
            booster.load_model(raw)
    except xgb.core.XGBoostError as exc:
        # xgboost's parse errors quote the model, however long the line.
        raise _cannot_load(model, clip(str(exc).strip().splitlines()[0])) from None
    except UnicodeDecodeError:
        # xgboost's Python side decodes its error message, which quotes the model's bytes.
        raise _cannot_load(model, "its error message quotes bytes that are not UTF-8: the file is corrupt") from None
    booster.set_param({"nthread": 1})
    return booster


def _cannot_load(model: ModelFile, why: str) -> ArtifactError:
    return ArtifactError(
        model.name,
        f"xgboost {xgb.__version__} cannot load this {model.format.value} model"
        f" (saved by xgboost {model.saved_by_text}): {why}",
    )


def facts(booster: xgb.Booster) -> ModelFacts:
    config = json.loads(booster.save_config())
    objective = config["learner"]["objective"]["name"]
    return ModelFacts(
        objective=objective,
        num_features=booster.num_features(),
        num_trees=booster.num_boosted_rounds(),
        feature_names=tuple(booster.feature_names) if booster.feature_names else None,
    )
