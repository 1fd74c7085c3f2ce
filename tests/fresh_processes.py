"""Fresh interpreters, started ahead and waiting, for tests that kill a process many times.

Why not a fork: forking copies the test process with whatever torch set up in it (its OpenMP
thread pools, a CUDA context an earlier test made), and on GPU and many-core machines the child
then fails (issue 25). A fresh interpreter pays a few seconds of imports instead; starting the next
children while the current one runs hides most of that.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
READY, GO = "ready", "go"


def waiting_child(setup: str, body: str, args: list[str], err: Path, env: dict | None = None,
                  paths: tuple[Path, ...] = ()) -> subprocess.Popen:
    """python -c setup; then "ready" on stdout and wait for "go" on stdin; then body (argv = args).

    setup does the slow part (imports, data); body is the work a test interrupts; stderr goes to err;
    the repository, tests/ and `paths` are on its import path."""
    code = (f"{setup}\nimport sys as _sys\nprint({READY!r}, flush=True)\n"
            f"if _sys.stdin.readline().strip() != {GO!r}:\n    raise SystemExit(0)\n"
            "import os as _os\n_os.dup2(_os.open(_os.devnull, _os.O_WRONLY), 1)  # nobody reads the pipe now\n"
            f"{body}")
    path = os.pathsep.join(filter(None, [str(ROOT), str(ROOT / "tests"), *map(str, paths),
                                          os.environ.get("PYTHONPATH")]))
    with open(err, "w") as err_file:
        return subprocess.Popen([sys.executable, "-c", code, *args], cwd=ROOT, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=err_file, text=True,
                                env={**(env or os.environ), "PYTHONPATH": path})


def release(proc: subprocess.Popen, err: Path) -> None:
    """Wait until proc is ready, then tell it to go."""
    line = proc.stdout.readline().strip()
    if line != READY:
        proc.kill()
        proc.wait()
        raise AssertionError(f"the child did not start (exit {proc.returncode}):\n{err.read_text()[-3000:]}")
    proc.stdin.write(GO + "\n")
    proc.stdin.flush()


class Ahead:
    """Children start(i) for i = 0, 1, ..., each started `ahead` rounds before go(i) needs it."""

    def __init__(self, start: Callable[[int], tuple[subprocess.Popen, Path]], count: int, ahead: int = 2) -> None:
        self.start, self.count, self.ahead = start, count, ahead
        self.children: dict[int, tuple[subprocess.Popen, Path]] = {}

    def go(self, i: int) -> subprocess.Popen:
        for j in range(i, min(self.count, i + self.ahead + 1)):
            if j not in self.children:
                self.children[j] = self.start(j)
        proc, err = self.children[i]
        release(proc, err)
        return proc

    def error_text(self, i: int) -> str:
        return self.children[i][1].read_text()[-3000:]

    def close(self) -> None:
        """Kill every child still alive (the ones started ahead and never used, or a failed round's)."""
        for proc, _ in self.children.values():
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            for stream in (proc.stdin, proc.stdout):
                stream.close()
