"""One buildspec command at a time, in bash, as CodeBuild's shell runs it.

Buildspec 0.2 runs every command of the build in the same shell instance: a `cd`, a variable
or a function defined by one command is there for the next. Each command here is its own bash
process that starts from the state the previous one left (variables, functions, working
directory, saved by an EXIT trap), which is that behaviour without a long-lived shell to drive.
Each runs in its own session, so a timeout or StopBuild ends everything it started, and under
PR_SET_PDEATHSIG so it dies with the emulator's thread.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path

from serving.child import dies_with_parent

_PROLOGUE = """\
if [ -f "$__CB_STATE" ]; then . "$__CB_STATE" 2>/dev/null; fi
if [ -f "$__CB_CWD" ]; then cd "$(cat "$__CB_CWD")" || exit 1; fi
trap '__cb_rc=$?; { declare -p; declare -f; } > "$__CB_STATE" 2>/dev/null; pwd > "$__CB_CWD"; exit $__cb_rc' EXIT
"""


class Shell:
    """Runs commands in `cwd` with `env`; `kill()` ends the running one (and its children)."""

    def __init__(self, cwd: Path, env: dict[str, str], state_dir: Path, shared: bool = True):
        self.cwd, self.env, self.shared = cwd, env, shared
        self.state = state_dir / "shell-state.sh"
        self.cwd_file = state_dir / "shell-cwd"
        self._proc: subprocess.Popen | None = None
        self._lock = threading.Lock()
        self._groups: list[int] = []  # every command's process group, ended with the build
        self.killed = False

    def set(self, name: str, value: str) -> None:
        """A variable CodeBuild itself changes between phases (CODEBUILD_BUILD_SUCCEEDING)."""
        self.env[name] = value
        if self.state.exists():
            with self.state.open("a") as f:
                f.write(f"export {name}='{value}'\n")

    def run(self, command: str, output: Callable[[str], None]) -> int:
        """The command's exit status; each line it writes (stdout and stderr) goes to `output`."""
        if not self.shared:
            self.state.unlink(missing_ok=True)
            self.cwd_file.unlink(missing_ok=True)
        script = self.state.parent / "command.sh"
        script.write_text(_PROLOGUE + command + "\n")
        env = {**self.env, "__CB_STATE": str(self.state), "__CB_CWD": str(self.cwd_file)}
        with self._lock:
            if self.killed:
                return 143
            self._proc = subprocess.Popen(
                dies_with_parent(["bash", str(script)]),
                cwd=self.cwd,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                text=True,
                errors="replace",
                start_new_session=True,
            )
            self._groups.append(self._proc.pid)
        proc = self._proc
        # A command may leave a background process holding the output open: the command is
        # done when its shell exits, not when the output closes.
        reader = threading.Thread(target=_forward, args=(proc, output), daemon=True)
        reader.start()
        status = proc.wait()
        reader.join(timeout=2)
        return status

    def exported(self, names: tuple[str, ...]) -> dict[str, str]:
        """The values `names` have in the shell now (for env.exported-variables)."""
        if not names:
            return {}
        probe = "".join(f'printf "%s\\0" "${{{n}-}}"\n' for n in names)
        lines: list[str] = []
        self.run(probe, lines.append)
        values = "\n".join(lines).split("\0")
        return {n: v for n, v in zip(names, values, strict=False)}

    def kill(self) -> None:
        """Ends the running command and anything any command left running (the build is over)."""
        with self._lock:
            self.killed = True
            groups = list(self._groups)
        for group in groups:
            try:
                os.killpg(group, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


def _forward(proc: subprocess.Popen, output: Callable[[str], None]) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        output(line.rstrip("\n"))
