"""Free loopback ports and port checks."""

from __future__ import annotations

import contextlib
import socket

from streams.errors import DevstackError

__all__ = ["ensure_free", "free_port", "port_in_use"]


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on right now (the OS picks it)."""
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """True when something already accepts connections on ``host:port``."""
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def ensure_free(port: int, host: str, *, setting: str) -> None:
    """Refuse, in one line, a port something already listens on (what would use it dies of it at start)."""
    if port_in_use(port, host):
        raise DevstackError(f"port {port} is already in use on {host}",
                            hint=f"stop whatever listens there (another `streams dev`?) or set {setting} to "
                                 "another port")
