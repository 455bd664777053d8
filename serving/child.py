"""Child processes that say they are ready on a pipe only they write, and die with their parent.

Readiness never comes from stdout: native libraries (tl2cgen's compile, gcc) write there too,
and a reader that took their first line for the server's saw no URL and killed a healthy
server. The child gets the write end of a ready pipe and writes one line when it serves.

The lifeline is a pipe whose write end only the parent holds. When the parent dies, however
it dies (SIGKILL included), the kernel closes that end and the child reads EOF. Unlike
PR_SET_PDEATHSIG it does not fire when the *thread* that started the child ends, which in the
threaded emulator happens long before the endpoint's server should stop.
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

READY_FLAG = "--ready-fd"
LIFELINE_FLAG = "--lifeline-fd"
# After the parent is gone, a clean shutdown gets this long before the child exits hard.
_GRACE_SECONDS = 10.0


class NotReady(RuntimeError):
    """The child exited, or the deadline passed, before it said it was ready."""


@dataclass
class Child:
    """The parent's side: the process, the ready pipe's read end, the lifeline's write end."""

    proc: subprocess.Popen
    ready_fd: int
    lifeline_fd: int
    started: float

    def wait_ready(self, timeout: float, last_output: Callable[[], str] = lambda: "") -> str:
        """The child's ready line (without the newline), or NotReady saying how long it waited."""
        deadline = self.started + timeout
        buf = b""
        try:
            while b"\n" not in buf:
                if time.monotonic() >= deadline:
                    self._fail(f"not ready after {time.monotonic() - self.started:.0f} s (deadline {timeout:.0f} s)")
                readable, _, _ = select.select([self.ready_fd], [], [], min(0.5, deadline - time.monotonic()))
                if readable:
                    chunk = os.read(self.ready_fd, 512)
                    if not chunk:
                        self.proc.wait(5)
                        self._fail(
                            f"exited with status {self.proc.returncode} after "
                            f"{time.monotonic() - self.started:.1f} s: {last_output() or 'no output'}"
                        )
                    buf += chunk
        finally:
            os.close(self.ready_fd)
            self.ready_fd = -1
        return buf.split(b"\n", 1)[0].decode(errors="replace")

    def _fail(self, why: str) -> None:
        self.stop()
        raise NotReady(why)

    def stop(self, grace: float = 10.0) -> int:
        """SIGTERM, then SIGKILL after `grace` seconds; the lifeline is cut either way."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.cut()
        return self.proc.returncode

    def cut(self) -> None:
        if self.lifeline_fd >= 0:
            os.close(self.lifeline_fd)
            self.lifeline_fd = -1


def spawn(cmd: list[str], pass_fds: tuple[int, ...] = (), **popen: object) -> Child:
    """Start `cmd` with `--ready-fd R --lifeline-fd L` appended; both pipes are private to it."""
    ready_read, ready_write = os.pipe()
    life_read, life_write = os.pipe()
    try:
        proc = subprocess.Popen(
            [*cmd, READY_FLAG, str(ready_write), LIFELINE_FLAG, str(life_read)],
            pass_fds=(*pass_fds, ready_write, life_read),
            **popen,  # type: ignore[arg-type]
        )
    except BaseException:
        for fd in (ready_read, life_write):
            os.close(fd)
        raise
    finally:
        os.close(ready_write)
        os.close(life_read)
    return Child(proc, ready_read, life_write, time.monotonic())


def signal_ready(fd: int | None, line: str) -> None:
    """The child's side: one line on the ready pipe (no pipe: nothing to tell)."""
    if fd is None:
        return
    os.write(fd, (line.rstrip("\n") + "\n").encode())
    os.close(fd)


def hold_lifeline(fd: int | None) -> None:
    """The child's side: SIGTERM ourselves when the parent's end closes, exit hard if that hangs."""
    if fd is None:
        return

    def watch() -> None:
        while True:
            try:
                if not os.read(fd, 64):
                    break
            except InterruptedError:
                continue
            except OSError:
                break
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(_GRACE_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="lifeline", daemon=True).start()


def dies_with_parent(cmd: list[str]) -> list[str]:
    """`cmd` prefixed so the kernel kills it when the thread that waits on it dies.

    For programs we cannot give a lifeline (wrk, the step scripts, a Lambda handler), started by
    a thread that waits for them to end, PR_SET_PDEATHSIG is exact. util-linux's setpriv sets it
    before exec, which `preexec_fn` cannot do safely in a threaded process. (A parent that dies
    in the instant between the fork and setpriv's prctl is not covered.)
    """
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "KILL", "--", *cmd] if setpriv else cmd
