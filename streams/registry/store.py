"""The registry's storage: a compacted, single-partition Kafka topic, read from the start.

A background thread consumes ``_schemas`` and applies every record to the
in-memory ``RegistryState``; reads are served from memory.  A write is
produced with acks=all and takes effect only when this instance reads it back
from the topic, so every instance applies the same log in the same order.

Writes go through one instance at a time, by construction rather than by a
leader lock: within an instance a lock serializes them, and across instances
the log decides.  A writer first catches up to the topic's end, computes the
id and version from that state, produces, and waits to read its record back.
If another instance's record for the same id or subject version landed
first, ours is ignored by every instance alike (first record in the log
wins); the writer sees that and tries again on the newer state.  No two
instances can ever serve different schemas under one id.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

from streams.errors import TransientError
from streams.registry.state import RegistryState
from streams.topics import TopicSpec, ensure_topics

__all__ = ["KafkaStore"]

log = logging.getLogger(__name__)
T = TypeVar("T")

_QUIET = logging.getLogger("streams.registry.librdkafka")
_QUIET.addHandler(logging.NullHandler())
_QUIET.propagate = False


class KafkaStore:
    def __init__(self, bootstrap_servers: str, topic: str, state: RegistryState, *, timeout: float = 30.0) -> None:
        self.topic = topic
        self.state = state
        self.timeout = timeout
        self._bootstrap = bootstrap_servers
        self._cond = threading.Condition()
        self._write_lock = threading.Lock()
        self._applied = -1
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._consumer: Consumer | None = None
        self._offsets: Consumer | None = None
        self._offsets_lock = threading.Lock()
        self._producer: Producer | None = None

    # ---- life cycle ----
    def start(self) -> None:
        base: dict[str, Any] = {"bootstrap.servers": self._bootstrap, "logger": _QUIET}
        try:
            ensure_topics(AdminClient(base), [TopicSpec(self.topic, 1, {"cleanup.policy": "compact"})],
                          timeout=self.timeout)
        except TransientError:
            raise
        self._producer = Producer({**base, "acks": "all", "enable.idempotence": True, "linger.ms": 0})
        self._consumer = Consumer({**base, "group.id": f"streams-registry-{id(self)}", "enable.auto.commit": False,
                                   "auto.offset.reset": "earliest", "enable.partition.eof": False})
        self._consumer.assign([TopicPartition(self.topic, 0, OFFSET_BEGINNING)])
        # A second client for end-offset queries: the reader thread owns the first one.
        self._offsets = Consumer({**base, "group.id": f"streams-registry-offsets-{id(self)}",
                                  "enable.auto.commit": False})
        self._thread = threading.Thread(target=self._run, name="registry-store", daemon=True)
        self._thread.start()
        self.catch_up()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._consumer is not None:
            self._consumer.close()
        if self._offsets is not None:
            self._offsets.close()
        if self._producer is not None:
            self._producer.flush(5)

    def _run(self) -> None:
        assert self._consumer is not None
        while not self._stop.is_set():
            try:
                messages = self._consumer.consume(num_messages=500, timeout=0.2)
            except KafkaException as exc:  # pragma: no cover - broker gone
                log.warning("registry store consumer error: %s", exc)
                time.sleep(0.5)
                continue
            if not messages:
                continue
            with self._cond:
                for message in messages:
                    if message.error() is not None:
                        continue
                    if not self.state.apply(message.key(), message.value()):
                        log.info("ignored _schemas record at offset %s (conflict or unknown)", message.offset())
                    self._applied = int(message.offset() or 0)
                self._cond.notify_all()

    # ---- reading and writing ----
    def read(self, fn: Callable[[RegistryState], T]) -> T:
        with self._cond:
            return fn(self.state)

    def end_offset(self) -> int:
        """The topic's end offset; retried while a just-created topic has no leader yet."""
        assert self._offsets is not None
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                with self._offsets_lock:
                    _, high = self._offsets.get_watermark_offsets(TopicPartition(self.topic, 0), timeout=5)
                return int(high)
            except KafkaException as exc:
                if not exc.args[0].retriable() or time.monotonic() > deadline:
                    raise TransientError(f"cannot read the end of {self.topic}: {exc.args[0]}") from exc
                time.sleep(0.2)

    def catch_up(self) -> None:
        """Wait until everything in the topic right now is applied."""
        self.wait_applied(self.end_offset() - 1)

    def wait_applied(self, offset: int) -> None:
        deadline = time.monotonic() + self.timeout
        with self._cond:
            while self._applied < offset:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TransientError(f"registry store did not catch up to offset {offset} of {self.topic}")
                self._cond.wait(remaining)

    def append(self, records: list[tuple[bytes, bytes | None]]) -> int:
        """Produce records durably; return the offset of the last one, once it is applied here."""
        assert self._producer is not None
        last = {"offset": -1}
        errors: list[KafkaError] = []

        def on_delivery(err: KafkaError | None, msg: Any) -> None:
            if err is not None:
                errors.append(err)
            else:
                last["offset"] = max(last["offset"], int(msg.offset()))

        for key, value in records:
            self._producer.produce(self.topic, key=key, value=value, partition=0, on_delivery=on_delivery)
        self._producer.flush(self.timeout)
        if errors or last["offset"] < 0:
            raise TransientError(f"could not write to {self.topic}: {errors[0].str() if errors else 'timeout'}")
        self.wait_applied(last["offset"])
        return last["offset"]

    def write(self, attempt: Callable[[RegistryState], tuple[list[tuple[bytes, bytes | None]], Callable[[], T]]],
              retries: int = 5) -> T:
        """Serialize a write: plan records from fresh state, append, verify; retry on a lost conflict.

        ``attempt(state)`` returns the records to append (possibly none) and a function that, called
        under the state lock after the append, returns the result or raises ``_Lost``.
        """
        with self._write_lock:
            for _ in range(retries):
                self.catch_up()
                with self._cond:
                    records, finish = attempt(self.state)
                if records:
                    self.append(records)
                try:
                    with self._cond:
                        return finish()
                except Lost:
                    continue
        raise TransientError("too many concurrent writes to the registry; retry")


class Lost(Exception):  # noqa: N818 - a signal, not an error
    """Our record lost a conflict to another instance's record."""
