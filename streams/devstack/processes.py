"""Child processes of the dev stack: started in their own process group, stopped with it.

``ChildProcess`` runs a command with its output appended to a log file, waits
for an HTTP readiness URL, and on ``stop()`` sends SIGTERM to the whole group,
then SIGKILL after a grace period, so no grandchild is left behind; and it dies
with the process that started it (``streams.devstack.lifeline``).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from streams.devstack.lifeline import die_with_parent
from streams.errors import DevstackError

__all__ = ["ChildProcess"]

_PORT_TAKEN = "address already in use"


@dataclass
class ChildProcess:
    name: str
    argv: list[str]
    log_path: Path
    ready_url: str
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None  # where it runs (``python -m`` imports from there first)
    _proc: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    def start(self, timeout: float = 60.0) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        logged_before = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                self.argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env={**os.environ, **self.env}, start_new_session=True, preexec_fn=die_with_parent(), cwd=self.cwd,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                cause = self._cause(logged_before)
                raise DevstackError(f"{self.name} exited during start (exit code {self._proc.returncode})"
                                    + (f": {cause}" if cause else ""), hint="read its log", log_path=str(self.log_path))
            try:
                if httpx.get(self.ready_url, timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.stop()
        raise DevstackError(f"{self.name} was not ready within {timeout:.0f}s ({self.ready_url})",
                            hint="read its log", log_path=str(self.log_path))

    def _cause(self, since: int) -> str | None:
        """A cause this start's log names that a user can act on (a port taken), else None."""
        with self.log_path.open("rb") as log:
            log.seek(since)
            lines = log.read().decode(errors="replace").splitlines()
        return next((line.strip() for line in reversed(lines) if _PORT_TAKEN in line.lower()), None)

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def exited(self) -> int | None:
        """The exit code if the process has ended, else None."""
        return self._proc.poll() if self._proc else None

    def stop(self, grace: float = 15.0) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            _signal_group(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                _signal_group(proc.pid, signal.SIGKILL)
                proc.wait()
        _signal_group(proc.pid, signal.SIGKILL)  # stragglers of the group, if any


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)
