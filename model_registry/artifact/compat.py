"""Whether a SageMaker XGBoost serving image can load a model file.

The image's loader (sagemaker-xgboost-container, `serve_utils.get_loaded_booster`) loads
every file in /opt/ml/model: it tries `pickle.load` first, then `Booster.load_model(path)`
on the file as named, `xgboost-model`, which has no extension. With no extension,
xgboost recognises JSON by its content in every version, while UBJSON is only read that
way from 2.x on; the legacy binary format was removed in 3.1, and so was reading 1.x
pickles. Older xgboost is not promised to read newer models.
"""

from __future__ import annotations

from dataclasses import dataclass

from model_registry.artifact.model_file import ModelFile, ModelFormat

# The xgboost release line inside each supported image.
CONTAINER_XGBOOST: dict[str, tuple[int, int]] = {"1.7-1": (1, 7), "3.0-5": (3, 0), "3.2-0": (3, 2)}


@dataclass(frozen=True)
class Compatibility:
    container_version: str
    loadable: bool
    reason: str


def check(model: ModelFile, container_version: str) -> Compatibility:
    if container_version not in CONTAINER_XGBOOST:
        return Compatibility(
            container_version, False, f"unknown container version; supported: {sorted(CONTAINER_XGBOOST)}"
        )
    inside = CONTAINER_XGBOOST[container_version]
    inside_text = ".".join(map(str, inside))
    reason = _refusal(model, inside, inside_text)
    if reason:
        return Compatibility(container_version, False, reason + _advice(model))
    note = (
        ""
        if model.format is ModelFormat.JSON
        else "; a stable format is safer: `rtb-mlops artifact convert` re-saves it as JSON"
    )
    return Compatibility(
        container_version,
        True,
        f"{model.format.value} saved by xgboost {model.saved_by_text} loads in xgboost {inside_text}{note}",
    )


def _refusal(model: ModelFile, inside: tuple[int, int], inside_text: str) -> str | None:
    saved = model.saved_by
    if saved and saved[:2] > inside:
        return f"saved by xgboost {model.saved_by_text}, newer than the image's xgboost {inside_text}"
    if model.format is ModelFormat.UBJSON and inside[0] < 2:
        return f"xgboost {inside_text} reads an extension-less 'xgboost-model' as JSON or binary, not UBJSON"
    if model.format is ModelFormat.BINARY and inside >= (3, 1):
        return f"xgboost {inside_text} no longer reads the legacy binary format (removed in 3.1)"
    if model.format is ModelFormat.PICKLE and inside >= (3, 1) and (saved is None or saved[0] < 2):
        return f"xgboost {inside_text} cannot unpickle a Booster saved by xgboost {model.saved_by_text}"
    return None


def _advice(model: ModelFile) -> str:
    if model.format is ModelFormat.JSON:
        return "; choose a newer container version"
    return "; convert it to JSON (`rtb-mlops artifact convert`) or choose a compatible container version"
