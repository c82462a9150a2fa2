"""`streams dev` with a port taken: one line naming the port, the setting and the cause, a non-zero exit."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from streams.devstack.ports import free_port

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("setting", ["STREAMS_BROKER", "STREAMS_WEB_PORT"])
def test_dev_refuses_a_busy_port_with_one_line(tmp_path: Path, setting: str) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        ports = {"STREAMS_BROKER": free_port(), "STREAMS_WEB_PORT": free_port(), setting: port}
        env = {**os.environ, "STREAMS_BROKER": f"kafka://127.0.0.1:{ports['STREAMS_BROKER']}",
               "STREAMS_WEB_PORT": str(ports["STREAMS_WEB_PORT"]), "STREAMS_DATA_DIR": str(tmp_path),
               "STREAMS_SCHEMA_REGISTRY_URL": f"http://127.0.0.1:{free_port()}"}
        result = subprocess.run([sys.executable, "-m", "streams.cli", "dev"], env=env, capture_output=True,
                                text=True, timeout=180)
    assert result.returncode == 1, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("streams: error:")]
    assert len(errors) == 1, result.stderr
    assert f"port {port} is already in use on 127.0.0.1" in errors[0]
    assert setting in errors[0]
    if setting == "STREAMS_WEB_PORT":
        assert "stopped" in result.stderr  # the broker and registry it had started are stopped again
