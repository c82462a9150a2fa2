"""A worker as a real process (``python -m streams.cli worker``) on a free port: for tests and benchmarks."""

from __future__ import annotations

import os
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from streams.devstack.ports import free_port
from streams.devstack.processes import ChildProcess

__all__ = ["WorkerProcess"]


@dataclass
class WorkerProcess:
    """One worker with its own data dir and port; ``env`` are STREAMS_* settings; ``cwd``: the source tree it
    runs from (``python -m`` imports from its working directory first; default: this process's)."""

    env: dict[str, str]
    data_dir: Path
    port: int = field(default_factory=free_port)
    cwd: Path | None = None
    process: ChildProcess | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90.0, ready_path: str = "/health") -> WorkerProcess:
        env = {**self.env, "STREAMS_WEB_PORT": str(self.port), "STREAMS_DATA_DIR": str(self.data_dir),
               "STREAMS_WEB_HOST": "127.0.0.1"}
        self.process = ChildProcess(
            name=f"worker:{self.port}", argv=[sys.executable, "-m", "streams.cli", "worker"],
            log_path=self.data_dir / "worker.log", ready_url=f"{self.url}{ready_path}", env=env, cwd=self.cwd,
        )
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
