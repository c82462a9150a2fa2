"""A guided tour of a running stack: produce a domain's stories, one poison record, and read the results back.

The domain supplies the stories as data (a ``Scenario``: ingest requests to
produce, and what its read models must answer afterwards); this module knows
nothing of what they mean.  It checks the worker is ready, produces every step
through the domain's ingest (validated, Avro, envelope headers, acks=all),
sends one record that is not Avro, then asks each read model with
``?after=<partition>:<offset>`` (read-your-writes) and finds the poison record
in the dead-letter topic.

Some stories are not finished by the events the demo writes but by the worker itself (a process that answers
with events of its own): there is no position to wait for, so those are *watched* (``DemoWatch``: polled until a
field says they ended, within a bound the scenario gives).  A step may be held back until a resource answers a
value (``DemoGate``), for stories whose order matters.  The watch gives up early, with the scenario's own words,
when nothing it watches exists (``missing``) or everything it waits for is stalled (``stalled``): a demo never
hangs on a worker that lacks what the stories need.
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

__all__ = ["POISON_VALUE", "DemoCheck", "DemoGate", "DemoRead", "DemoRunner", "DemoStep", "DemoWatch", "Ingest",
           "Outcome", "Scenario", "WatchOutcome", "WatchReport"]

POISON_VALUE = b"streams demo: these bytes are not Confluent-framed Avro"


@dataclass(frozen=True)
class DemoGate:
    """Open once GET ``path`` answers 200 with ``field`` one of ``values`` (a JSON null is ``None``)."""

    path: str
    field: str
    values: frozenset[Any]

    def opened_by(self, body: Mapping[str, Any]) -> bool:
        return body.get(self.field) in self.values


@dataclass(frozen=True)
class DemoStep:
    """One event to produce: an ingest request ``{"type", "data", "event_id"?, ...}``; ``gate``: held back until it
    opens (while the stories are watched), then produced."""

    body: dict[str, Any]
    gate: DemoGate | None = None


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
class DemoRead:
    """Read once a watch ended: GET ``path`` until it answers these fields (the worker's own events take a moment
    to reach their read model), at most the runner's ``wait_s``."""

    label: str
    path: str
    expect: Mapping[str, Any]


@dataclass(frozen=True)
class DemoWatch:
    """A story the worker finishes itself: GET ``path`` until ``field`` is one of ``final``; then ``expect`` must
    hold, and each of ``then``.

    ``show``: the fields printed of the last answer.  ``missing``: what it means when ``path`` answers 404 all
    along.  ``stalled``: given the last answer, why the story cannot go on (None: it can), in the domain's words.
    """

    label: str
    path: str
    field: str
    final: frozenset[Any]
    expect: Mapping[str, Any]
    show: tuple[str, ...] = ()
    then: tuple[DemoRead, ...] = ()
    missing: str = "not found"
    stalled: Callable[[Mapping[str, Any]], str | None] | None = None


@dataclass(frozen=True)
class Scenario:
    steps: tuple[DemoStep, ...]
    checks: tuple[DemoCheck, ...]
    poison_key: str
    links: tuple[str, ...] = ()
    """Paths of the worker worth opening afterwards."""
    watches: tuple[DemoWatch, ...] = ()
    watch_s: float = 60.0
    """How long the watches may take in all: the bound of the demo's wait."""
    missing_after_s: float = 15.0
    """How long every watched path may answer 404 before the demo says what that means and stops."""
    notes: tuple[str, ...] = ()
    """Lines to print before the stories are told (a story left out, and why)."""
    watch_title: str = "what the worker did"


@dataclass(frozen=True)
class Outcome:
    check: DemoCheck
    got: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and all(self.got.get(k) == v for k, v in self.check.expect.items())


@dataclass(frozen=True)
class WatchOutcome:
    """What a watch saw: the ``show`` fields of the last answer (empty: never found), and each read after it."""

    watch: DemoWatch
    got: dict[str, Any] = field(default_factory=dict)
    reads: tuple[dict[str, Any], ...] = ()
    error: str | None = None
    seconds: float | None = None
    """From the start of the watch until it saw the story end."""

    @property
    def ok(self) -> bool:
        return (self.error is None and all(self.got.get(k) == v for k, v in self.watch.expect.items())
                and len(self.reads) == len(self.watch.then)
                and all(got.get(k) == v for read, got in zip(self.watch.then, self.reads, strict=True)
                        for k, v in read.expect.items()))


@dataclass(frozen=True)
class WatchReport:
    outcomes: list[WatchOutcome]
    stopped: list[str]
    """Why the watch gave up before every story ended (the scenario's words); empty when it did not."""


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

    def produce(self, scenario: Scenario, advance: Callable[[], None] = lambda: None) -> list[Position | None]:
        """Every step without a gate, in order (validated first, gated ones too: a bad step stops the demo before
        anything is sent); a gated step's position stays None until ``watch`` produces it."""
        prepared = [self.ingest.prepare(step.body) for step in scenario.steps]
        futures = {n: self.ingest.enqueue(record) for n, record in enumerate(prepared)
                   if scenario.steps[n].gate is None}
        positions: list[Position | None] = [None] * len(prepared)
        for n, future in futures.items():
            positions[n] = future.result(timeout=60)
            advance()
        return positions

    def poison(self, key: str) -> Position:
        future = self.ingest.producer.produce(self.ingest.topic, key.encode(), POISON_VALUE)
        return future.result(timeout=60)

    def check(self, check: DemoCheck, positions: list[Position | None]) -> Outcome:
        """GET ``check.path`` once per position it waits for (``?after=``); the last answer is judged."""
        body: Any = {}
        for step in check.after:
            position = positions[step]
            if position is None:
                return Outcome(check, error="not produced: its gate never opened")
            params = {"after": position.token, "wait": str(self.wait_s)}
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

    def watch(self, scenario: Scenario, positions: list[Position | None],
              progress: Callable[[int, int, str], None] = lambda ended, total, summary: None,
              interval: float = 0.5, stall_s: float = 3.0) -> WatchReport:
        """Poll every watch until its story ended, producing gated steps as their gates open (their positions go
        into ``positions``); bounded by ``scenario.watch_s``.  Gives up early when every watched path answered 404
        for ``scenario.missing_after_s``, or when every story still open (of those found) has been stalled for
        ``stall_s``.
        ``progress(ended, total, summary)`` after each round (``summary``: the open stories by ``field``)."""
        started = time.monotonic()
        last: dict[int, dict[str, Any]] = {}
        ended: dict[int, float] = {}
        gated = {n: step for n, step in enumerate(scenario.steps) if step.gate is not None and positions[n] is None}
        stalled_since: float | None = None
        stopped: list[str] = []
        watches = scenario.watches
        while True:
            for n, watch in enumerate(watches):
                if n in ended:
                    continue
                body = self._get(watch.path)
                if body is not None:
                    last[n] = body
                    if body.get(watch.field) in watch.final:
                        ended[n] = time.monotonic() - started
            self._open_gates(scenario, gated, positions)
            now = time.monotonic()
            open_ = [n for n in range(len(watches)) if n not in ended]
            progress(len(ended), len(watches), _summary(watches, open_, last))
            if not open_ and not gated:
                break
            if now - started > scenario.watch_s:
                stopped.append(f"{len(open_)} of {len(watches)} stories had not ended after {scenario.watch_s:.0f}s")
                break
            if not last and now - started > scenario.missing_after_s:
                stopped.append(f"none of {len(watches)} stories was found after {scenario.missing_after_s:.0f}s: "
                               + "; ".join(sorted({watches[n].missing for n in open_})))
                break
            # Stories not found yet are left out: one held back until a stalled one moves would never be.
            stalls = {_stall(watches[n], last[n]) for n in open_ if n in last}
            if stalls and None not in stalls:
                stalled_since = stalled_since or now
                if now - stalled_since >= stall_s:
                    stopped.extend(sorted(str(line) for line in stalls))
                    break
            else:
                stalled_since = None
            time.sleep(interval)
        outcomes = []
        for n, watch in enumerate(watches):
            got = {k: last[n].get(k) for k in dict.fromkeys((*watch.show, *watch.expect))} if n in last else {}
            if n not in ended:
                error = "not found" if n not in last else f"not ended: {watch.field}={last[n].get(watch.field)}"
                outcomes.append(WatchOutcome(watch, got, error=error))
                continue
            reads = tuple(self._read(read) for read in watch.then)
            outcomes.append(WatchOutcome(watch, got, reads, seconds=ended[n]))
        return WatchReport(outcomes, stopped)

    def _open_gates(self, scenario: Scenario, gated: dict[int, DemoStep], positions: list[Position | None]) -> None:
        opened = []
        for n, step in gated.items():
            assert step.gate is not None
            body = self._get(step.gate.path)
            if body is not None and step.gate.opened_by(body):
                opened.append(n)
        for n in opened:
            positions[n] = self.ingest.enqueue(self.ingest.prepare(scenario.steps[n].body)).result(timeout=60)
            del gated[n]

    def _get(self, path: str) -> dict[str, Any] | None:
        """The JSON of a 200, else None (404: not there yet; 503: the worker rebalancing; a worker gone: the same,
        the watch's bound ends the wait)."""
        try:
            response = self._http.get(path)
        except httpx.TransportError:
            return None
        if response.status_code != 200:
            return None
        body = response.json()
        return body if isinstance(body, dict) else None

    def _read(self, read: DemoRead) -> dict[str, Any]:
        deadline = time.monotonic() + self.wait_s
        while True:
            body = self._get(read.path) or {}
            got = {k: body.get(k) for k in read.expect}
            if got == dict(read.expect) or time.monotonic() > deadline:
                return got
            time.sleep(0.2)

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


def _summary(watches: tuple[DemoWatch, ...], open_: list[int], last: dict[int, dict[str, Any]]) -> str:
    """The open stories by their watched field's last value: ``running 3, (not found) 1``."""
    counts: dict[str, int] = {}
    for n in open_:
        value = str(last[n].get(watches[n].field)) if n in last else "(not found)"
        counts[value] = counts.get(value, 0) + 1
    return ", ".join(f"{value} {count}" for value, count in sorted(counts.items()))


def _stall(watch: DemoWatch, body: dict[str, Any]) -> str | None:
    return watch.stalled(body) if watch.stalled is not None else None
