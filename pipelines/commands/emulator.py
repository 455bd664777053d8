"""`rtb-mlops emulator up|down|status`: the embedded AWS emulator on 127.0.0.1."""

from __future__ import annotations

import argparse


def add(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("emulator", help="start, stop or show the embedded AWS emulator")
    verbs = p.add_subparsers(dest="verb", required=True)
    up = verbs.add_parser("up", help="start it in the background (or report the one running)")
    up.add_argument("--port", type=int, default=4599)
    up.add_argument(
        "--no-iam",
        action="store_true",
        help="debugging only: answer every request without authorising it (IAM is strict by default)",
    )
    up.set_defaults(func=run_up)
    verbs.add_parser("down", help="stop it, with its endpoints and jobs").set_defaults(func=run_down)
    verbs.add_parser("status", help="whether it runs, and the environment to use it").set_defaults(func=run_status)


def run_up(args: argparse.Namespace) -> int:
    import os

    from emulator import control
    from emulator.iam.enforce import SWITCH

    if args.no_iam:
        os.environ[SWITCH] = "off"  # read by the emulator process this starts
    running, started = control.up(args.port)
    state = "started" if started else "already running"
    print(f"emulator {state} at {running.url} (pid {running.pid}, log {running.log})")
    print(running.exports())
    return 0


def run_down(args: argparse.Namespace) -> int:
    from emulator import control

    home = control.state_dir()
    result = control.down(home)
    if result is control.Stopped.STOPPED:
        print("emulator stopped; its state (registry, endpoints, S3 objects) was in memory and is gone")
    elif result is control.Stopped.WAS_DEAD:
        print(f"the emulator recorded in {home} was not running (it died: see {home / 'emulator.log'}); record removed")
        return 1
    else:
        print(f"no emulator was recorded in {home}")
    return 0


def run_status(args: argparse.Namespace) -> int:
    from emulator import control

    running = control.status()
    if running is None:
        print("emulator not running (start it with: rtb-mlops emulator up)")
        return 1
    print(f"emulator running at {running.url} (pid {running.pid}, log {running.log})")
    print(running.exports())
    return 0
