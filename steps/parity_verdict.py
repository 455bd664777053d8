"""The parity gate's verdict on the fast container, as the Recommend step reads it.

The Parity step runs `python -m serving.parity` in the fast image and writes `parity.json`:
`{"passed": bool, "rows_checked": int, "max_abs_diff": float, "reason": str, "worst_rows": [...]}`
(the compiled predictor's outputs against xgboost's, within 1e-6, on the sample payload and
on generated rows with missing and extreme values). The fast specification is a candidate
only on a verdict that says `passed`; a missing or unreadable verdict drops it too, saying so.
"""

from __future__ import annotations

import json
from pathlib import Path

from model_registry.names import FAST_SPECIFICATION

FILE = "parity.json"


def dropped(parity_dir: Path | None) -> dict[str, str]:
    """{specification name: why its candidates are set aside}; empty when the verdict passed
    (or no parity directory was given: no gate configured)."""
    if parity_dir is None:
        return {}
    path = parity_dir / FILE
    try:
        verdict = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        return {FAST_SPECIFICATION: f"parity gate: no readable verdict at {path}: {exc}"}
    if not isinstance(verdict, dict) or not isinstance(verdict.get("passed"), bool):
        return {FAST_SPECIFICATION: f"parity gate: {path} has no boolean 'passed'"}
    if verdict["passed"]:
        return {}
    figures = f"{verdict.get('rows_checked', '?')} rows checked, max abs diff {verdict.get('max_abs_diff', '?')}"
    return {FAST_SPECIFICATION: f"parity gate failed: {verdict.get('reason') or 'outputs differ'} ({figures})"}
