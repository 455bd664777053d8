"""`python -m emulator --port P --work-dir DIR`: run the emulator in the foreground."""

import argparse
import logging
import sys
from pathlib import Path

from emulator.server import serve


def main() -> int:
    p = argparse.ArgumentParser(prog="emulator")
    p.add_argument("--port", type=int, default=4599)
    p.add_argument("--work-dir", type=Path, required=True)
    p.add_argument("--region", default="us-east-1")
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    args.work_dir.mkdir(parents=True, exist_ok=True)
    serve(args.port, args.work_dir, args.region)
    return 0


if __name__ == "__main__":
    sys.exit(main())
