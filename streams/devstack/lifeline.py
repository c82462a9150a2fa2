"""Children of the dev stack die with the process that started them, even when it is killed with SIGKILL.

``streams dev`` stops its broker, registry and worker in order on Ctrl-C; but
a parent killed outright (``kill -9``, an OOM kill, a test runner's timeout)
runs no cleanup, and children in their own sessions would live on, holding
ports and CPU.  Linux's ``PR_SET_PDEATHSIG`` has the kernel send them SIGKILL
when their parent goes: a graceful stop could hang (a worker whose broker is
going away at the same moment), and both are built to survive SIGKILL (Kafka
recovers its log; a worker commits only what is durable).  The signal follows the *thread* that started the
child, so start devstack children from a thread that outlives them (the main
thread, as ``streams dev``, the test fixtures and the benchmarks do).
Elsewhere than Linux this is a no-op.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Callable

__all__ = ["die_with_parent"]

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` for ``subprocess.Popen`` (None where the kernel has no such thing)."""
    if not sys.platform.startswith("linux"):
        return None
    parent = os.getpid()
    libc = ctypes.CDLL(None, use_errno=True)

    def arm() -> None:  # in the child, between fork and exec
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the signal was armed
            os._exit(1)

    return arm
