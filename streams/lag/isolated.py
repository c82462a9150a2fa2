"""A ``LagSampler`` in a child process of its own, so that sampling lag can never take a worker down.

librdkafka's admin API has aborted the whole process when the broker vanished
under an outstanding request (``rd_kafka_enq_once_del_source_return: Assertion
'eonce->refcnt > 0' failed``, librdkafka issue 4605): measured here, a broker
killed with SIGKILL for ~20 s killed the worker 3 times of 3 through the sampler's
calls every 5 s.  No Python code can catch an abort.  So the worker samples
through ``IsolatedSampler``: the same ``sample``/``close`` as ``LagSampler``,
served by a spawned child process (not forked: librdkafka's threads do not
survive a fork).  If the child dies, whatever the reason, does not answer in
time, or fails to sample, the sample fails with a ``TransientError`` that says
so (the monitor keeps the last good sample and shows the error), and the next
sample starts a new child with new clients: measured here, the admin client of
a child that had sampled before a broker restart kept timing out after it, for
minutes, while a new one answered at once.
"""

from __future__ import annotations

import contextlib
import multiprocessing
from collections.abc import Iterable
from multiprocessing.connection import Connection
from typing import Any

from streams.connection import KafkaConnection
from streams.errors import StreamsError, TransientError
from streams.lag.model import GroupLag

__all__ = ["IsolatedSampler"]


class IsolatedSampler:
    def __init__(self, kafka: KafkaConnection, *, answer_within_s: float = 60.0) -> None:
        self.kafka = kafka
        self.answer_within_s = answer_within_s
        self._context = multiprocessing.get_context("spawn")
        self._process: Any = None
        self._conn: Connection | None = None
        self.started = 0  # children started so far (1 while nothing went wrong)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def sample(self, groups: Iterable[str], *, seconds: bool = True) -> list[GroupLag]:
        conn = self._connection()
        try:
            conn.send(("sample", list(groups), seconds))
            if not conn.poll(self.answer_within_s):
                self._discard()
                raise TransientError(f"the lag sampler did not answer within {self.answer_within_s:g}s; "
                                     "a new one samples next time")
            kind, payload = conn.recv()
        except (EOFError, OSError):
            code = self._discard(grace_s=1.0)  # it closed its end: it is exiting
            raise TransientError(f"the lag sampler process died (exit code {code}); a new one samples next time",
                                 hint="is the broker reachable? check STREAMS_BROKER") from None
        if kind == "error":  # a client that failed once may stay stuck (seen: timeouts after a broker restart)
            self._discard(grace_s=1.0)
            raise TransientError(str(payload), hint="is the broker reachable? check STREAMS_BROKER")
        result: list[GroupLag] = payload
        return result

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(OSError, EOFError):
                self._conn.send(("close",))
        self._discard(grace_s=5.0)

    def _connection(self) -> Connection:
        if self._process is not None and not self._process.is_alive():  # died since the last sample: say so once
            code = self._discard()
            raise TransientError(f"the lag sampler process died (exit code {code}); a new one samples next time",
                                 hint="is the broker reachable? check STREAMS_BROKER")
        if self._conn is None or self._process is None:
            parent, child = self._context.Pipe()
            self._process = self._context.Process(target=_serve, args=(child, self.kafka),
                                                  name="streams-lag-sampler", daemon=True)
            self._process.start()
            child.close()
            self._conn = parent
            self.started += 1
        return self._conn

    def _discard(self, grace_s: float = 0.0) -> int | None:
        """Stop the child (if any); its exit code."""
        process, self._process = self._process, None
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()
        if process is None:
            return None
        process.join(grace_s)
        if process.is_alive():
            process.kill()
            process.join(5.0)
        code: int | None = process.exitcode
        return code


def _serve(conn: Connection, kafka: KafkaConnection) -> None:  # pragma: no cover - runs in the child
    from streams.lag.sampler import LagSampler

    sampler = LagSampler(kafka)
    try:
        while True:
            try:
                request = conn.recv()
            except EOFError:
                return  # the worker is gone
            if request[0] == "close":
                return
            _, groups, seconds = request
            try:
                conn.send(("ok", sampler.sample(groups, seconds=seconds)))
            except StreamsError as exc:
                conn.send(("error", exc.message))
            except Exception as exc:  # noqa: BLE001 - whatever it is, the worker hears of it as one line
                conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        sampler.close()
