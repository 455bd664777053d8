"""`python -m tests.unit.validate_many FILE...`: `rtb-mlops artifact validate` on each file,
in one interpreter (importing xgboost takes seconds), printing a JSON map from each file
to its exit code and output. An exception that escapes the command is its traceback."""

from __future__ import annotations

import contextlib
import io
import json
import sys
import traceback

from pipelines.cli import main


def _validate(path: str) -> dict:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(["artifact", "validate", path])
        except BaseException:  # whatever escapes (MemoryError, RecursionError...) is the finding
            return {"code": None, "stdout": out.getvalue(), "stderr": traceback.format_exc()}
    return {"code": code, "stdout": out.getvalue(), "stderr": err.getvalue()}


if __name__ == "__main__":
    json.dump({path: _validate(path) for path in sys.argv[1:]}, sys.stdout)
