"""What ``streams dev`` says when a child dies during its start (no broker is started)."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

from streams.devstack.ports import ensure_free, free_port
from streams.devstack.processes import ChildProcess
from streams.errors import DevstackError


def test_a_child_that_could_not_bind_its_port_says_so(tmp_path: Path) -> None:
    log = tmp_path / "logs" / "worker.log"
    log.parent.mkdir()
    log.write_text("an earlier run: [Errno 98] address already in use\n")  # not this start's cause
    script = ("import sys; print('starting'); "
              "print(\"OSError: [Errno 98] error while attempting to bind on address ('127.0.0.1', 6066): "
              "address already in use\"); sys.exit(1)")
    child = ChildProcess(name="worker", argv=[sys.executable, "-c", script], log_path=log,
                         ready_url=f"http://127.0.0.1:{free_port()}/health")
    with pytest.raises(DevstackError) as info:
        child.start(timeout=30)
    line = info.value.one_line()
    assert "worker exited during start (exit code 1): OSError: [Errno 98]" in line
    assert "('127.0.0.1', 6066): address already in use" in line


def test_a_child_that_dies_of_something_else_points_at_its_log(tmp_path: Path) -> None:
    child = ChildProcess(name="worker", argv=[sys.executable, "-c", "raise SystemExit(3)"],
                         log_path=tmp_path / "worker.log", ready_url=f"http://127.0.0.1:{free_port()}/health")
    with pytest.raises(DevstackError) as info:
        child.start(timeout=30)
    assert info.value.message == "worker exited during start (exit code 3)"
    assert "read its log" in info.value.one_line()


def test_a_port_something_listens_on_is_refused_in_one_line() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(DevstackError) as info:
            ensure_free(port, "127.0.0.1", setting="STREAMS_WEB_PORT")
    assert f"port {port} is already in use on 127.0.0.1" in info.value.one_line()
    assert "STREAMS_WEB_PORT" in info.value.one_line()
