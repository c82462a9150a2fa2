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


def _holder(path: Path) -> int | None:
    """The pid in a hold file if that process still lives, else None."""
    try:
        pid = int(path.read_text().strip() or "0")
    except (OSError, ValueError):
        return None
    return pid if pid > 0 and _alive(pid) else None


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
        """The pid of the client holding the worker stopped, or None (a dead client's file is cleared)."""
        path = self.directory / _HOLD
        if not path.exists():
            return None
        holder = _holder(path)
        if holder is None:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        return holder

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
        if hold.exists() and _holder(hold) is not None:
            raise ConflictError(f"process {_holder(hold)} already holds the dev stack's worker stopped",
                                hint="let it finish, then run this again")
        hold.unlink(missing_ok=True)
        with hold.open("x") as file:  # "x": two clients at once, one of them fails here
            file.write(str(os.getpid()))
        try:
            say(f"asking the `streams dev` stack (pid {self.pid}) to stop its worker; the broker keeps running")
            self._wait_for("stopped", stop_timeout)
            yield
        finally:
            hold.unlink(missing_ok=True)
        say("the dev stack starts its worker again")
        self._wait_for("running", start_timeout)
        say("the dev stack's worker is running again")

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
