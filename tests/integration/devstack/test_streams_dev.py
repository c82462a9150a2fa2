"""`streams dev` (what `make run` runs): all up with /health answering, Ctrl-C leaves nothing behind."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.integration.devstack.stack import alive, descendants, kill_all, start_dev, worker_pid
from tests.integration.harness import wait_until

pytestmark = pytest.mark.integration



def _described(pids: list[int]) -> list[str]:
    described = []
    for pid in pids:
        with contextlib.suppress(OSError):
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            described.append(f"{pid}: {b' '.join(argv).decode()}")
    return described


def _wait_gone(pids: set[int], timeout: float) -> list[int]:
    deadline = time.monotonic() + timeout
    while (running := [pid for pid in pids if alive(pid)]) and time.monotonic() < deadline:
        time.sleep(0.2)
    return running


def _wait_printed(printed: list[str], text: str, timeout: float = 120) -> None:
    try:
        wait_until(lambda: any(text in line for line in printed), timeout=timeout, what=repr(text))
    except AssertionError as exc:
        raise AssertionError(f"{exc}; streams dev printed:\n{''.join(printed)[-4000:]}") from None


def test_dev_stack_comes_up_restarts_a_killed_worker_and_ctrl_c_stops_everything(tmp_path: Path) -> None:
    proc, _, registry = start_dev(tmp_path)
    children: set[int] = set()
    printed: list[str] = []
    reader = threading.Thread(target=lambda: printed.extend(iter(proc.stdout.readline, "")),  # type: ignore[union-attr]
                              daemon=True)
    reader.start()
    try:
        assert httpx.get(f"http://127.0.0.1:{registry}/subjects").status_code == 200
        _wait_printed(printed, "all up in")  # the stack has seen its worker ready too (before, a dying one fails it)
        first = worker_pid(proc.pid)
        assert first is not None
        os.kill(first, signal.SIGKILL)  # a crash: the stack brings the worker back, not down
        _wait_printed(printed, "worker    ready again")
        assert any("worker exited with code -9; restarting it" in line for line in printed), printed
        again = worker_pid(proc.pid)
        assert again not in (None, first), "no new worker"
        assert proc.poll() is None
        children = descendants(proc.pid)
        assert len(children) >= 3  # java broker, registry, worker (and their helpers)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0, printed
        reader.join(timeout=30)
        assert "stopped" in "".join(printed)
        assert _described(_wait_gone(children, 30)) == []  # each killed, and gone once the kernel is done with it
    finally:
        kill_all(proc, children)


def test_dev_stack_children_die_with_a_killed_dev(tmp_path: Path) -> None:
    """kill -9 of `streams dev` runs none of its cleanup: the kernel still takes broker, registry and worker."""
    proc, _, _ = start_dev(tmp_path)
    children = descendants(proc.pid)
    try:
        assert len(children) >= 3
        proc.kill()
        proc.communicate(timeout=30)
        assert _described(_wait_gone(children, 30)) == []
    finally:
        kill_all(proc, children)
