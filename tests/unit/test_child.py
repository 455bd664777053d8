"""Child processes: readiness on a pipe only they write, and death with their parent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import psutil
import pytest

from serving.child import NotReady, dies_with_parent, spawn
from tests.conftest import REPO

# A child that takes the flags `spawn` appends, like serving's own commands.
CHILD = textwrap.dedent(
    """
    import argparse, sys, time
    from serving.child import hold_lifeline, signal_ready
    p = argparse.ArgumentParser()
    p.add_argument("--ready-fd", type=int)
    p.add_argument("--lifeline-fd", type=int)
    p.add_argument("mode")
    args = p.parse_args()
    hold_lifeline(args.lifeline_fd)
    print("Parallel compilation enabled; member trees will be grouped into 2 source files.", flush=True)
    if args.mode == "crash":
        print("cannot load the model", file=sys.stderr, flush=True)
        sys.exit(3)
    if args.mode == "ready":
        signal_ready(args.ready_fd, "serving at http://127.0.0.1:1234 ")
    time.sleep(600)
    """
)


def start(mode: str, **popen):
    return spawn([sys.executable, "-c", CHILD, mode], cwd=REPO, **popen)


def test_the_ready_line_comes_from_the_pipe_whatever_stdout_says_first():
    child = start("ready", stdout=subprocess.PIPE)
    try:
        assert child.wait_ready(60) == "serving at http://127.0.0.1:1234 "
        assert child.proc.stdout.readline().startswith(b"Parallel compilation enabled")
    finally:
        assert child.stop() == -signal.SIGTERM


def test_a_child_that_exits_before_ready_is_reported_with_its_status_and_output():
    child = start("crash", stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
    with pytest.raises(NotReady, match=r"exited with status 3 after [\d.]+ s: cannot load the model"):
        child.wait_ready(60, lambda: child.proc.stderr.read().decode().strip())


def test_a_child_that_never_says_ready_times_out_saying_how_long_it_waited():
    child = start("silent", stdout=subprocess.DEVNULL)
    with pytest.raises(NotReady, match=r"not ready after 1 s \(deadline 1 s\)"):
        child.wait_ready(1.0)
    assert child.proc.poll() is not None  # stopped, not left running


def _wait_gone(pid: int, seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.1)
    return False


def test_the_child_dies_when_its_parent_is_killed_with_sigkill():
    parent_code = textwrap.dedent(
        f"""
        import subprocess, sys, time
        from serving.child import spawn
        child = spawn([sys.executable, "-c", {CHILD!r}, "ready"], stdout=subprocess.DEVNULL)
        child.wait_ready(60)
        print(child.proc.pid, flush=True)
        time.sleep(600)
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", parent_code], cwd=REPO, stdout=subprocess.PIPE, text=True)
    child_pid = int(parent.stdout.readline())
    assert psutil.pid_exists(child_pid)
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    assert _wait_gone(child_pid), f"child {child_pid} outlived its parent"


def test_a_waited_for_command_dies_with_the_thread_that_started_it():
    parent_code = textwrap.dedent(
        """
        import subprocess, sys
        from serving.child import dies_with_parent
        proc = subprocess.Popen(dies_with_parent(["sleep", "600"]))
        print(proc.pid, flush=True)
        proc.wait()
        """
    )
    assert dies_with_parent(["x"])[-1] == "x"
    parent = subprocess.Popen([sys.executable, "-c", parent_code], cwd=REPO, stdout=subprocess.PIPE, text=True)
    sleeper = int(parent.stdout.readline())
    # setpriv sets the signal after its own exec; kill the parent only once it has run.
    deadline = time.monotonic() + 20
    while psutil.Process(sleeper).name() != "sleep":
        assert time.monotonic() < deadline, "setpriv never ran the command"
        time.sleep(0.05)
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    assert _wait_gone(sleeper), f"{sleeper} outlived the process waiting for it"
