"""How ``streams replay --restart-dev-worker`` finds a dev stack and holds its worker (no stack is started).

The stack's side is played by a thread of the test, the way ``DevStack.wait`` does it: see the hold, stop
(here: say "stopped"), see it gone, start again.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from streams.devstack.control import DevStackClient, StackControl
from streams.errors import ConflictError, DevstackError

BROKER = "127.0.0.1:19092"


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@contextmanager
def _another_client() -> Iterator[int]:
    """The pid of a live process other than this one (a second client), alive inside the block."""
    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        yield child.pid
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(timeout=30)


def _stack_restarting(control: StackControl) -> Callable[[str], None]:
    """A client's ``say`` that plays the stack: once the client lets go, the worker is running again."""
    def say(line: str) -> None:
        if "starts its worker again" in line:
            control.announce(BROKER, "running")
    return say


def test_a_client_finds_only_a_live_stack_on_its_own_data_dir_and_broker(tmp_path: Path) -> None:
    assert DevStackClient.find(tmp_path, BROKER) is None
    StackControl(tmp_path / "dev").announce(BROKER, "running")
    found = DevStackClient.find(tmp_path, BROKER)
    assert found is not None
    assert (found.pid, found.worker) == (os.getpid(), "running")
    assert DevStackClient.find(tmp_path, "127.0.0.1:9092") is None  # another broker: not this stack
    StackControl(tmp_path / "dev").withdraw()
    assert DevStackClient.find(tmp_path, BROKER) is None


def test_a_stale_stack_file_of_a_dead_stack_is_no_stack(tmp_path: Path) -> None:
    (tmp_path / "dev").mkdir()
    (tmp_path / "dev" / "stack.json").write_text(f'{{"pid": {_dead_pid()}, "broker": "{BROKER}", '
                                                 '"worker": "running"}')
    assert DevStackClient.find(tmp_path, BROKER) is None


def test_a_hold_of_a_client_that_died_lets_the_worker_start_again(tmp_path: Path) -> None:
    control = StackControl(tmp_path / "dev")
    control.announce(BROKER, "running")
    (tmp_path / "dev" / "hold-worker").write_text(str(os.getpid()))
    assert control.held_by() == os.getpid()
    (tmp_path / "dev" / "hold-worker").write_text(str(_dead_pid()))
    assert control.held_by() is None
    assert not (tmp_path / "dev" / "hold-worker").exists()


def test_the_worker_is_stopped_inside_the_block_and_running_again_after_it(tmp_path: Path) -> None:
    control = StackControl(tmp_path / "dev")
    control.announce(BROKER, "running")
    client = DevStackClient.find(tmp_path, BROKER)
    assert client is not None
    released = threading.Event()
    states: list[str] = []

    def stack() -> None:  # what DevStack.wait does each round, until the hold is let go
        held = False
        while not released.is_set() or held:
            holder = control.held_by()
            if holder is not None and not held:
                held = True
                control.announce(BROKER, "stopped")
            elif holder is None and held:
                held = False
                control.announce(BROKER, "running")
            released.wait(0.05)

    thread = threading.Thread(target=stack)
    thread.start()
    said: list[str] = []
    try:
        with client.worker_held(stop_timeout=30, start_timeout=30, say=said.append):
            states.append(str(client.state()))
            with pytest.raises(ConflictError, match="already holds"):  # a second client at once
                client.worker_held(stop_timeout=30, start_timeout=30, say=said.append).__enter__()
            released.set()
        states.append(str(client.state()))
    finally:
        released.set()
        thread.join(timeout=30)
    assert states == ["stopped", "running"]
    assert not (tmp_path / "dev" / "hold-worker").exists()
    assert any("the broker keeps running" in line for line in said)


def test_a_stack_without_a_worker_has_none_to_hold(tmp_path: Path) -> None:
    StackControl(tmp_path / "dev").announce(BROKER, "none")
    client = DevStackClient.find(tmp_path, BROKER)
    assert client is not None
    with pytest.raises(DevstackError, match="runs no worker"):
        client.worker_held(stop_timeout=1, start_timeout=1, say=print).__enter__()


def test_a_hold_file_naming_no_pid_is_not_cleared_as_stale(tmp_path: Path) -> None:
    # What a client's hold looked like before its pid was written: it must not be taken for a dead one's.
    control = StackControl(tmp_path / "dev")
    control.announce(BROKER, "running")
    hold = tmp_path / "dev" / "hold-worker"
    hold.write_text("")
    assert control.held_by() is None
    assert hold.exists()
    client = DevStackClient.find(tmp_path, BROKER)
    assert client is not None
    with pytest.raises(ConflictError, match="names no process"):
        client.worker_held(stop_timeout=30, start_timeout=30, say=print).__enter__()
    assert hold.read_text() == ""


def test_the_hold_file_appears_with_the_clients_pid_in_it(tmp_path: Path) -> None:
    control = StackControl(tmp_path / "dev")
    control.announce(BROKER, "stopped")  # the stack has already stopped its worker: no wait inside
    client = DevStackClient.find(tmp_path, BROKER)
    assert client is not None
    seen: list[int | None] = []
    with client.worker_held(stop_timeout=30, start_timeout=30, say=_stack_restarting(control)):
        seen.append(control.held_by())
    assert seen == [os.getpid()]
    assert sorted(path.name for path in (tmp_path / "dev").iterdir()) == ["stack.json"]  # no temporary left


def test_a_client_never_removes_another_clients_hold(tmp_path: Path) -> None:
    control = StackControl(tmp_path / "dev")
    control.announce(BROKER, "stopped")
    client = DevStackClient.find(tmp_path, BROKER)
    assert client is not None
    hold = tmp_path / "dev" / "hold-worker"
    left_behind: list[str] = []
    restarting = _stack_restarting(control)

    def say(line: str) -> None:
        if "starts its worker again" in line:  # this client has let go of its hold
            left_behind.append(hold.read_text() if hold.exists() else "gone")
        restarting(line)

    with _another_client() as other:
        with client.worker_held(stop_timeout=30, start_timeout=30, say=say):
            hold.unlink()  # this client's hold is gone (removed by hand), and another client took it
            hold.write_text(str(other))
        assert left_behind == [str(other)]
        assert control.held_by() == other
        with pytest.raises(ConflictError, match=f"process {other} already holds"):
            client.worker_held(stop_timeout=30, start_timeout=30, say=print).__enter__()
        assert hold.read_text() == str(other)


def test_a_dead_clients_hold_is_cleared_by_the_stack_then_a_new_client_gets_it(tmp_path: Path) -> None:
    control = StackControl(tmp_path / "dev")
    control.announce(BROKER, "stopped")
    hold = tmp_path / "dev" / "hold-worker"
    hold.write_text(str(_dead_pid()))
    client = DevStackClient.find(tmp_path, BROKER)
    assert client is not None
    done = threading.Event()

    def stack() -> None:  # the stack's rounds: it alone clears a dead client's hold
        while not done.is_set():
            control.held_by()
            done.wait(0.05)

    thread = threading.Thread(target=stack)
    thread.start()
    held: list[str] = []
    try:
        with client.worker_held(stop_timeout=30, start_timeout=30, say=_stack_restarting(control)):
            held.append(hold.read_text())
    finally:
        done.set()
        thread.join(timeout=30)
    assert held == [str(os.getpid())]
