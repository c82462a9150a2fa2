"""Asking a running ``streams dev`` to hold its worker stopped for a while, keeping its broker up.

``streams replay --execute`` needs the consumer group inactive, and under
``streams dev`` the group's member is the stack's own worker: Ctrl-C would stop
the broker with it.  So the stack and a client talk through two files in the
stack's data directory (``<data dir>/dev/``), on this machine only:

* ``stack.json``, written by the stack while it runs: its pid, its broker's
  bootstrap servers, and its worker's state (``running``, ``stopped``,
  ``none`` when it runs no worker);
* ``hold-worker``, created by a client (``DevStackClient.worker_held``) with
  its own pid.  While the file exists and that process lives, the stack keeps
  its worker stopped (a clean stop: the worker leaves its group); once the
  file is gone, or its process has died (a crashed or killed client never
  leaves the worker down), the stack starts the worker again.

The hold file appears whole: the client writes its pid to a file of its own
and hard-links it as ``hold-worker`` (``os.link`` fails if the name exists, so
of two clients exactly one gets the hold), so the stack never reads a hold
without its pid.  A client removes only its own hold; only the stack removes
another's, and only once the pid in it is a dead process.

Only the stack stops a worker, and only its own child: a client never signals
any process, so no other worker (a production one, another stack's) can be
stopped this way.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from streams.errors import ConflictError, DevstackError

__all__ = ["DevStackClient", "StackControl", "WorkerState"]

WorkerState = Literal["running", "stopped", "none"]

_STACK = "stack.json"
_HOLD = "hold-worker"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def _pid_in(path: Path) -> int | None:
    """The pid a hold file names, or None when it is gone or names no pid."""
    try:
        pid = int(path.read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if pid > 0 else None


@dataclass(frozen=True)
class StackControl:
    """The stack's side: announce itself, and see whether a client holds its worker stopped."""

    directory: Path  # <data dir>/dev

    def announce(self, bootstrap_servers: str, worker: WorkerState) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        temporary = self.directory / f".{_STACK}.{os.getpid()}"
        temporary.write_text(json.dumps({"pid": os.getpid(), "broker": bootstrap_servers, "worker": worker}))
        temporary.replace(self.directory / _STACK)  # atomic: a client never reads half of it

    def held_by(self) -> int | None:
        """The pid of the live client holding the worker stopped, or None.

        A hold whose pid is a dead process is removed (its client crashed).  A hold naming no pid is
        no hold, but is left alone: it is not one this module writes, and nothing says its writer
        is gone.
        """
        path = self.directory / _HOLD
        pid = _pid_in(path)
        if pid is None:
            return None
        if _alive(pid):
            return pid
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        return None

    def withdraw(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            (self.directory / _STACK).unlink()


@dataclass(frozen=True)
class DevStackClient:
    """A running ``streams dev`` stack on this data directory and this broker, seen from another process."""

    directory: Path
    pid: int
    worker: WorkerState

    @classmethod
    def find(cls, data_dir: Path, bootstrap_servers: str) -> DevStackClient | None:
        """The stack whose data dir is ``data_dir`` and whose broker is ``bootstrap_servers``, if one runs."""
        directory = data_dir.resolve() / "dev"
        try:
            found = json.loads((directory / _STACK).read_text())
        except (OSError, ValueError):
            return None
        if found.get("broker") != bootstrap_servers or not _alive(int(found.get("pid", 0))):
            return None
        return cls(directory=directory, pid=int(found["pid"]), worker=found.get("worker", "none"))

    def state(self) -> WorkerState | None:
        """The worker's state the stack announces now; None once the stack is gone."""
        try:
            found = json.loads((self.directory / _STACK).read_text())
        except (OSError, ValueError):
            return None
        if int(found.get("pid", 0)) != self.pid or not _alive(self.pid):
            return None
        state: WorkerState = found.get("worker", "none")
        return state

    @contextlib.contextmanager
    def worker_held(self, *, stop_timeout: float, start_timeout: float,
                    say: Callable[[str], None]) -> Iterator[None]:
        """The stack's worker stopped inside the block, started again after it (even if the block fails)."""
        if self.worker == "none":
            raise DevstackError(f"the `streams dev` stack (pid {self.pid}) runs no worker to stop")
        hold = self.directory / _HOLD
        self._claim(hold, stop_timeout)
        try:
            say(f"asking the `streams dev` stack (pid {self.pid}) to stop its worker; the broker keeps running")
            self._wait_for("stopped", stop_timeout)
            yield
        finally:
            if _pid_in(hold) == os.getpid():  # ours: no one else removes a live client's hold
                hold.unlink(missing_ok=True)
        say("the dev stack starts its worker again")
        self._wait_for("running", start_timeout)
        say("the dev stack's worker is running again")

    def _claim(self, hold: Path, timeout: float) -> None:
        """Create the hold file with this process's pid in it, whole, or fail if another client holds it.

        A hold left by a dead client is the stack's to remove: this waits (up to ``timeout``) until it has.
        """
        mine = self.directory / f".{_HOLD}.{os.getpid()}"
        mine.write_text(str(os.getpid()))
        deadline = time.monotonic() + timeout
        try:
            while True:
                try:
                    os.link(mine, hold)  # fails if the name exists: of two clients, one gets the hold
                    return
                except FileExistsError:
                    pid = _pid_in(hold)
                if pid is None and hold.exists():
                    raise ConflictError(f"{hold} names no process; it was not written by `streams replay`",
                                        hint="remove it if no replay runs against this dev stack")
                if pid is not None and _alive(pid):
                    raise ConflictError(f"process {pid} already holds the dev stack's worker stopped",
                                        hint="let it finish, then run this again")
                if self.state() is None:
                    raise DevstackError(f"the `streams dev` stack (pid {self.pid}) has stopped",
                                        hint="read what it printed; start it again with `make run`")
                if time.monotonic() > deadline:
                    raise DevstackError(f"the dev stack did not clear the hold of dead process {pid} "
                                        f"within {timeout:.0f}s", hint=f"remove {hold}, then run this again")
                time.sleep(0.2)  # a dead client's hold: the stack removes it on its next round
        finally:
            mine.unlink(missing_ok=True)

    def _wait_for(self, wanted: WorkerState, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while (state := self.state()) != wanted:
            if state is None:
                raise DevstackError(f"the `streams dev` stack (pid {self.pid}) has stopped",
                                    hint="read what it printed; start it again with `make run`")
            if time.monotonic() > deadline:
                raise DevstackError(f"the dev stack's worker was not {wanted} within {timeout:.0f}s",
                                    hint="read what `streams dev` printed and its worker's log",
                                    log_path=str(self.directory.parent / "logs" / "worker.log"))
            time.sleep(0.2)
