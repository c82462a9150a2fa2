"""A guided tour of a running stack: produce a domain's stories, one poison record, and read the results back.

The domain supplies the stories as data (a ``Scenario``: ingest requests to
produce, and what its read models must answer afterwards); this module knows
nothing of what they mean.  It checks the worker is ready, produces every step
through the domain's ingest (validated, Avro, envelope headers, acks=all),
sends one record that is not Avro, then asks each read model with
``?after=<partition>:<offset>`` (read-your-writes) and finds the poison record
in the dead-letter topic.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from streams import headers as h
from streams.connection import KafkaConnection
from streams.errors import ConfigError, DeadlineError
from streams.position import Position
from streams.producer import DurableProducer
from streams.recordpath.records import RawRecord, header
from streams.scan import scan
from streams.topics import dlq_topic

__all__ = ["POISON_VALUE", "DemoCheck", "DemoRunner", "DemoStep", "Ingest", "Outcome", "Scenario"]

POISON_VALUE = b"streams demo: these bytes are not Confluent-framed Avro"


@dataclass(frozen=True)
class DemoStep:
    """One event to produce: an ingest request ``{"type", "data", "event_id"?, ...}``."""

    body: dict[str, Any]


@dataclass(frozen=True)
class DemoCheck:
    """Once the steps ``after`` are applied, GET ``path`` must answer these top-level fields.

    One step per source partition that feeds the answer: a read-your-writes wait covers one
    partition's position, and a customer's orders, say, live on several.
    """

    label: str
    path: str
    after: tuple[int, ...]
    expect: Mapping[str, Any]


@dataclass(frozen=True)
class Scenario:
    steps: tuple[DemoStep, ...]
    checks: tuple[DemoCheck, ...]
    poison_key: str
    links: tuple[str, ...] = ()
    """Paths of the worker worth opening afterwards."""


@dataclass(frozen=True)
class Outcome:
    check: DemoCheck
    got: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and all(self.got.get(k) == v for k, v in self.check.expect.items())


class Ingest(Protocol):
    """What a domain's ``create_ingest`` returns, as far as the demo needs it."""

    topic: str
    producer: DurableProducer

    def prepare(self, body: Any) -> Any: ...

    def enqueue(self, prepared: Any) -> Future[Position]: ...


class DemoRunner:
    def __init__(self, ingest: Ingest, worker_url: str, kafka: KafkaConnection, wait_s: float = 10.0) -> None:
        self.ingest = ingest
        self.worker_url = worker_url.rstrip("/")
        self.kafka = kafka
        self.wait_s = wait_s
        self._http = httpx.Client(base_url=self.worker_url, timeout=wait_s + 10)

    def close(self) -> None:
        self._http.close()

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Until the worker's /health says ready; a worker that is not there at all fails at once."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                if self._http.get("/health").status_code == 200:
                    return
            except httpx.TransportError as exc:
                raise ConfigError(f"no worker answers at {self.worker_url}/health ({type(exc).__name__})",
                                  hint="start the stack first with `make run` (streams dev), "
                                       "or point STREAMS_WEB_HOST/STREAMS_WEB_PORT at a worker") from None
            if time.monotonic() > deadline:
                raise DeadlineError(f"the worker at {self.worker_url} was not ready within {timeout:.0f}s",
                                    hint=f"see {self.worker_url}/health and the worker's log")
            time.sleep(0.5)

    def produce(self, scenario: Scenario, advance: Callable[[], None] = lambda: None) -> list[Position]:
        """Every step, in order (validated first: a bad step stops the demo before anything is sent)."""
        prepared = [self.ingest.prepare(step.body) for step in scenario.steps]
        futures = [self.ingest.enqueue(record) for record in prepared]
        positions = []
        for future in futures:
            positions.append(future.result(timeout=60))
            advance()
        return positions

    def poison(self, key: str) -> Position:
        future = self.ingest.producer.produce(self.ingest.topic, key.encode(), POISON_VALUE)
        return future.result(timeout=60)

    def check(self, check: DemoCheck, positions: list[Position]) -> Outcome:
        """GET ``check.path`` once per position it waits for (``?after=``); the last answer is judged."""
        body: Any = {}
        for step in check.after:
            params = {"after": positions[step].token, "wait": str(self.wait_s)}
            try:
                response = self._http.get(check.path, params=params)
            except httpx.TransportError as exc:
                return Outcome(check, error=f"{self.worker_url} did not answer: {type(exc).__name__}")
            json_body = response.headers.get("content-type", "").startswith("application/json")
            body = response.json() if json_body else {}
            if response.status_code != 200:
                message = body.get("error", {}).get("message", "") if isinstance(body, dict) else response.text[:200]
                return Outcome(check, error=f"HTTP {response.status_code}: {message}")
        return Outcome(check, got={k: body.get(k) for k in check.expect})

    def dead_letter(self, poisoned: Position, timeout: float = 30.0) -> RawRecord | None:
        """The dead letter of the record at ``poisoned``, once the worker has written it."""
        deadline = time.monotonic() + timeout
        wanted = (str(poisoned.partition).encode(), str(poisoned.offset).encode())
        while True:
            for record in scan(self.kafka, dlq_topic(poisoned.topic), missing_ok=True):
                if (header(record.headers, h.DLQ_ORIGINAL_PARTITION), header(record.headers, h.DLQ_ORIGINAL_OFFSET)) \
                        == wanted:
                    return record
            if time.monotonic() > deadline:
                return None
            time.sleep(0.5)
