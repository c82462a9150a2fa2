"""Workers as real processes (``python -m streams.cli worker``) for integration tests."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from streams.devstack.ports import free_port
from streams.devstack.processes import ChildProcess

__all__ = ["ROOT", "STARTED", "Worker", "metric", "streams_cli", "wait_until"]

ROOT = Path(__file__).resolve().parents[2]

STARTED: list[Worker] = []
"""Workers started by the current test; their log tails are shown when it fails (conftest)."""


@dataclass
class Worker:
    """One worker process with its own data dir and port; ``env`` are STREAMS_* settings."""

    env: dict[str, str]
    data_dir: Path
    port: int = field(default_factory=free_port)
    process: ChildProcess | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90.0, ready_path: str = "/health") -> Worker:
        env = {**self.env, "STREAMS_WEB_PORT": str(self.port), "STREAMS_DATA_DIR": str(self.data_dir),
               "STREAMS_WEB_HOST": "127.0.0.1"}
        self.process = ChildProcess(
            name=f"worker:{self.port}", argv=[sys.executable, "-m", "streams.cli", "worker"],
            log_path=self.data_dir / "worker.log", ready_url=f"{self.url}{ready_path}", env=env,
        )
        STARTED.append(self)
        self.process.start(timeout=timeout)
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()

    def kill(self) -> None:
        """SIGKILL, no goodbye: what a crash or an OOM kill does."""
        if self.process is not None and self.process.pid is not None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.stop()

    def get(self, path: str, **params: Any) -> httpx.Response:
        return httpx.get(f"{self.url}{path}", params=params, timeout=40)

    def log(self) -> str:
        path = self.data_dir / "worker.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def log_tail(self, lines: int = 80) -> str:
        return "\n".join(self.log().splitlines()[-lines:])


def wait_until(predicate: Any, timeout: float = 30.0, interval: float = 0.2, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def streams_cli(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``streams <args>`` as a user runs it, with ``env`` on top of this process's environment."""
    return subprocess.run([sys.executable, "-m", "streams.cli", *args], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def metric(text: str, name: str, **labels: str) -> float:
    """The sum of the samples of ``name`` whose labels include ``labels``, in a Prometheus exposition."""
    total = 0.0
    for line in text.splitlines():
        match = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$", line)
        if match is None or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group(3) or ""))
        if all(found.get(k) == v for k, v in labels.items()):
            total += float(match.group(4))
    return total
