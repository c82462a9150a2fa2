"""A ``streams dev`` stack (what ``make run`` runs) started by a test, and the processes it runs, seen in /proc."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from streams.devstack.ports import free_port
from tests.integration.harness import wait_until

__all__ = ["descendants", "java_pid", "kill_all", "start_dev", "worker_pid"]


def alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie, dead but not yet reaped, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"


def _parent(entry: Path) -> int:
    return int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])


def descendants(pid: int) -> set[int]:
    """The processes under ``pid``, in one pass over /proc in pid order (so a grandchild whose pid is below
    its parent's, after pids wrapped, is missed; ``kill_all`` is also given the ones a test saw earlier)."""
    found: set[int] = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = _parent(entry)
        except OSError:
            continue
        if parent == pid or parent in found:
            found.add(int(entry.name))
    return found


def start_dev(tmp_path: Path, attempts: int = 3, args: tuple[str, ...] = ()) -> tuple[subprocess.Popen[str], int, int]:
    """``streams dev *args`` on free ports; returns it, its web port and its registry's port once /health answers.

    Fails with its output if /health never answers.  A port found free can be taken before the stack binds
    it (another process's ephemeral port): the stack then says so in one line, and this tries again on
    other ports."""
    web, broker, registry = free_port(), free_port(), free_port()
    env = {**os.environ, "STREAMS_BROKER": f"kafka://127.0.0.1:{broker}", "STREAMS_WEB_PORT": str(web),
           "STREAMS_SCHEMA_REGISTRY_URL": f"http://127.0.0.1:{registry}", "STREAMS_DATA_DIR": str(tmp_path),
           "STREAMS_SESSION_TIMEOUT_S": "10",
           "STREAMS_SAGA": "false"}  # read models judged by the events the test sends (harness.worker_env)
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "streams.cli", "dev", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    with contextlib.suppress(AssertionError):  # not up in time: said below, with what the stack printed
        wait_until(lambda: proc.poll() is not None or _healthy(web), timeout=90, interval=0.5, what="/health")
    if proc.poll() is None and _healthy(web):
        print(f"streams dev: /health answered after {time.monotonic() - started:.1f}s")
        return proc, web, registry
    output = kill_all(proc)
    logs = "".join(log.read_text(errors="replace") for log in (tmp_path / "logs").glob("*.log"))
    if attempts > 1 and "already in use" in output + logs:
        for log in (tmp_path / "logs").glob("*.log"):
            log.unlink()
        return start_dev(tmp_path, attempts - 1, args)
    pytest.fail(f"no /health after {time.monotonic() - started:.0f}s (exit code {proc.returncode}); "
                f"streams dev printed:\n{output[-4000:]}\n(logs under {tmp_path})")


def kill_all(proc: subprocess.Popen[str], children: set[int] | None = None) -> str:
    """Whatever happened in the test, leave no process behind (children run in sessions of their own).

    Reaps ``streams dev`` and closes its pipe; returns what it printed that was not read yet.
    """
    for pid in [*(children or ()), *descendants(proc.pid), proc.pid]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    if proc.stdout is not None and not proc.stdout.closed:
        return proc.communicate(timeout=30)[0] or ""
    proc.wait(timeout=30)
    return ""


def worker_pid(dev: int) -> int | None:
    """The worker `streams dev` started: its own child (not a grandchild of the worker's, which shows the
    worker's command line between its fork and its exec)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if _parent(entry) == dev and b"streams.cli\0worker" in (entry / "cmdline").read_bytes():
                return int(entry.name)
    return None


def java_pid(dev: int) -> int | None:
    """The broker `streams dev` started: the java process under it."""
    for pid in descendants(dev):
        with contextlib.suppress(OSError):
            if Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].endswith(b"java"):
                return pid
    return None


def _healthy(web: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{web}/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
