"""`streams dev` (what `make run` runs): all up with /health answering, Ctrl-C leaves nothing behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from streams.devstack.ports import free_port

pytestmark = pytest.mark.integration


def _descendants(pid: int) -> set[int]:
    found: set[int] = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid or int(fields[1]) in found:
            found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"


def test_dev_stack_comes_up_and_ctrl_c_stops_everything(tmp_path: Path) -> None:
    web, broker, registry = free_port(), free_port(), free_port()
    env = {**os.environ, "STREAMS_BROKER": f"kafka://127.0.0.1:{broker}", "STREAMS_WEB_PORT": str(web),
           "STREAMS_SCHEMA_REGISTRY_URL": f"http://127.0.0.1:{registry}", "STREAMS_DATA_DIR": str(tmp_path)}
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "streams.cli", "dev"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        deadline = started + 90
        ready = False
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                ready = httpx.get(f"http://127.0.0.1:{web}/health", timeout=1).status_code == 200
            except httpx.HTTPError:
                ready = False
            if ready:
                break
            time.sleep(0.5)
        elapsed = time.monotonic() - started
        assert ready, f"no /health after {elapsed:.0f}s"
        print(f"streams dev: /health answered after {elapsed:.1f}s")
        assert httpx.get(f"http://127.0.0.1:{registry}/subjects").status_code == 200
        children = _descendants(proc.pid)
        assert len(children) >= 3  # java broker, registry, worker (and their helpers)
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0, output
        assert "stopped" in output
        time.sleep(0.5)
        assert [pid for pid in children if _alive(pid)] == []
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)


def test_dev_refuses_a_busy_broker_port_with_one_line(tmp_path: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = {**os.environ, "STREAMS_BROKER": f"kafka://127.0.0.1:{port}", "STREAMS_DATA_DIR": str(tmp_path),
               "STREAMS_WEB_PORT": str(free_port()), "STREAMS_SCHEMA_REGISTRY_URL": f"http://127.0.0.1:{free_port()}"}
        result = subprocess.run([sys.executable, "-m", "streams.cli", "dev"], env=env, capture_output=True,
                                text=True, timeout=120)
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("streams: error:")]
    assert len(errors) == 1
    assert f"port {port} is already in use" in errors[0]
