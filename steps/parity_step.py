"""The Parity step, run in the fast serving image: `serving.parity` on the registered artifact
and sample payload, its verdict in `parity.json` for the Recommend step.

Run as a script by path (`python3 .../steps/parity_step.py`), never with the step code on
PYTHONPATH: the image's own `serving` and `model_registry` must be the ones imported, not the
stdlib-only copy the code bundle carries. So this file imports the standard library only.

SageMaker downloads each input object into its folder under its own file name, which a
pipeline parameter does not tell; the one file in each folder is the input. When
`serving.parity` cannot give a verdict (an input it cannot read, or an image without it), the
verdict written is a failed one saying why: the fast container is then dropped by the gate,
with the reason, and the stock one still competes.

    python3 parity_step.py --model-dir D --payload-dir D --out-dir D
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

VERDICT = "parity.json"


def only_file(folder: Path) -> Path:
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    if len(files) != 1:
        raise ValueError(f"{folder}: expected exactly one input file, found {[p.name for p in files]}")
    return files[0]


def failed(reason: str) -> dict:
    return {"passed": False, "rows_checked": 0, "max_abs_diff": None, "reason": reason, "worst_rows": []}


def run(model_dir: Path, payload_dir: Path, out_dir: Path) -> dict:
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / VERDICT
    try:
        model, payload = only_file(model_dir), only_file(payload_dir)
    except ValueError as exc:
        verdict = failed(f"parity not checked: {exc}")
    else:
        cmd = [sys.executable, "-m", "serving.parity", "--model-artifact", str(model), "--payload", str(payload)]
        done = subprocess.run([*cmd, "--out", str(out)], capture_output=True, text=True, check=False)
        sys.stdout.write(done.stdout)
        sys.stderr.write(done.stderr)
        if done.returncode == 0 and out.is_file():
            return json.loads(out.read_text())
        last = (done.stderr.strip().splitlines() or ["no output"])[-1][:300]
        verdict = failed(f"parity not checked: serving.parity exited with status {done.returncode}: {last}")
    out.write_text(json.dumps(verdict, indent=2) + "\n")
    return verdict


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="parity_step")
    p.add_argument("--model-dir", type=Path, required=True)
    p.add_argument("--payload-dir", type=Path, required=True)
    p.add_argument("--out-dir", type=Path, required=True)
    args = p.parse_args(argv)
    verdict = run(args.model_dir, args.payload_dir, args.out_dir)
    print(f"parity: {'passed' if verdict['passed'] else 'failed'}: {verdict.get('reason', '')}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
