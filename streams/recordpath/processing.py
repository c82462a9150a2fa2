"""One record through an agent with everything that can go wrong handled: the platform's processing loop body.

The domain gives two functions:

* ``prepare(record) -> outputs``: decode, validate and run the pure handler,
  and anything else that may fail (encoding through the registry). It has no
  side effects, so it can be retried.
* ``commit(record, outputs)``: write the tables and send the records. Nothing
  in it is expected to fail for one record.

Per record, in order:

1. A record of a parked key (one whose earlier record is in the dead-letter
   topic) is parked behind it (``streams.dlq.parking``), unprocessed.
2. ``prepare`` runs; an error that says it is ``retriable`` is retried in place
   with exponential backoff and full jitter (``streams.retry``).
3. A record whose error is permanent (``dead_letter``) goes to ``<topic>.dlq``
   byte for byte with the reason, and parks its key.  A record whose retries
   ran out on a transient error is never dead-lettered: the breaker opens
   (``streams.breaker``), partitions pause and the record is held until a
   probe succeeds.  An error that is neither (a broken configuration) is
   raised: the worker stops without committing the record.  Looking up
   whether the letter was written before a crash (``streams.dlq.seen``) is
   retried and held the same way when Kafka is down.
4. ``commit`` runs, and the key is freed if this record ended its redrive.

Offsets: the caller acknowledges the record only after ``process`` returns
and everything it wrote is durable (``streams.recordpath.agent``, ``streams.recordpath.outbox``), so a
commit never covers a record that is not applied, dead-lettered or parked.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, Literal, TypeVar

from streams.breaker import BreakerPolicy, BreakerState, CircuitBreaker
from streams.dlq import parking
from streams.dlq.letters import PARKED, RedriveMark, dead_letter_headers, describe
from streams.errors import StreamsError
from streams.recordpath.outbox import CURRENT
from streams.recordpath.records import RawRecord
from streams.retry import RetryPolicy, retry_async
from streams.settings import Settings
from streams.topics import dlq_topic

__all__ = ["Effects", "GuardedProcessor", "Outcome", "ProcessingPolicy", "release_request"]

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")
Outcome = Literal["applied", "dead_lettered", "parked", "released", "skipped", "already_processed"]

SendFn = Callable[[str, bytes | None, bytes | None, list[tuple[str, bytes | None]]], Awaitable[None]]


@dataclass(frozen=True)
class ProcessingPolicy:
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    breaker: BreakerPolicy = field(default_factory=BreakerPolicy)

    @classmethod
    def from_settings(cls, settings: Settings) -> ProcessingPolicy:
        return cls(
            retry=RetryPolicy(max_attempts=settings.retry_max_attempts, base_delay_s=settings.retry_base_delay_s,
                              max_delay_s=settings.retry_max_delay_s),
            breaker=BreakerPolicy(open_s=settings.breaker_open_s, max_open_s=settings.breaker_max_open_s),
        )


async def _never_written(topic: str, record: RawRecord) -> bool:
    return False


@dataclass(frozen=True)
class Effects:
    """What processing does to the world, given by the agent (Faust) or by a unit test (plain objects)."""

    send: SendFn  # produce one record; durable before the next offset commit
    parked: MutableMapping[bytes, Any]  # key -> Parked.to_json(), a changelog-backed table in a worker
    pause: Callable[[], int]  # pause this agent's partitions; returns how many
    resume: Callable[[], None]
    on_breaker: Callable[[BreakerState, int], None] = lambda state, paused: None  # metrics
    on_retry: Callable[[str, int, str], None] = lambda error_class, attempt, message: None
    on_dead_letter: Callable[[str, str, str], None] = lambda topic, error_class, message: None
    # True when the record's letter is already in that dead-letter topic (written before a crash)
    written: Callable[[str, RawRecord], Awaitable[bool]] = field(default=_never_written)


def release_request(through_sequence: int | None, *, by: str) -> bytes:
    """The control record that releases a parked key (``streams dlq release``)."""
    return json.dumps({"action": "release", "through_sequence": through_sequence, "by": by}).encode()


class GuardedProcessor(Generic[T]):
    def __init__(self, *, agent: str, prepare: Callable[[RawRecord], Awaitable[T]],
                 commit: Callable[[RawRecord, T], None], effects: Effects,
                 policy: ProcessingPolicy | None = None, control_topic: str | None = None,
                 replaying: Callable[[RawRecord], bool] | None = None) -> None:
        """``replaying(record)``: true while a rebuild replays a record processed before; such a record is
        applied to the table being built, or skipped if it fails: its dead letter was written the first time."""
        self.agent = agent
        self.prepare = prepare
        self.commit = commit
        self.effects = effects
        self.policy = policy or ProcessingPolicy()
        self.breaker = CircuitBreaker(self.policy.breaker)
        self.control_topic = control_topic
        self.replaying = replaying

    async def process(self, record: RawRecord) -> Outcome:
        if record.topic == self.control_topic:
            return self._control(record)
        if self.replaying is not None and self.replaying(record):
            return await self._replay(record)
        key = record.key
        state = self._state(key)
        mark = RedriveMark.from_headers(record.headers) if state is not None else None
        if parking.admit(state, mark) is parking.Admission.PARK:
            assert state is not None
            assert key is not None
            await self._park(record, key, state)
            return "parked"
        try:
            outputs = await self._prepare(record)
        except Exception as exc:
            if isinstance(exc, StreamsError) and not exc.dead_letter and not exc.retriable:
                raise  # not the record's fault (configuration): stop, commit nothing
            # permanent, or out of retries: dead-letter it
            await self._dead_letter(record, exc, state, mark)
            return "dead_lettered"
        self.commit(record, outputs)
        if state is not None and key is not None:
            self._set_state(key, parking.after_success(state, mark))
        return "applied"

    async def _replay(self, record: RawRecord) -> Outcome:
        try:
            outputs = await self._prepare(record)
        except Exception as exc:
            if isinstance(exc, StreamsError) and not exc.dead_letter and not exc.retriable:
                raise
            log.info("%s: rebuild skips %s[%d]@%d, dead-lettered the first time: %s", self.agent, record.topic,
                     record.partition, record.offset, describe(exc)[0])
            return "skipped"
        ticket = CURRENT.get()
        if ticket is not None:
            ticket.rebuild = True  # only the new generation's writes go out (``Outbox.send``)
        self.commit(record, outputs)
        return "applied"

    # -- prepare: retries, breaker -------------------------------------------------------------------

    async def _prepare(self, record: RawRecord) -> T:
        return await self._guarded(record, lambda: self.prepare(record))

    async def _guarded(self, record: RawRecord, call: Callable[[], Awaitable[R]]) -> R:
        """``call()`` for ``record``, retried in place on a transient error, then held behind the breaker.

        Whatever the record needs from a dependency goes through here: preparing it, and looking up its
        dead letter. A dependency that is down never makes a record skip a step or lose its place."""
        try:
            result = await call()
        except StreamsError as exc:
            if not exc.retriable:
                self.breaker.record_success()  # the dependencies answered; the record is at fault
                raise
            result = await self._retry(record, call, exc)
        self.breaker.record_success()
        return result

    async def _retry(self, record: RawRecord, call: Callable[[], Awaitable[R]], first: StreamsError) -> R:
        def on_retry(attempt: int, exc: StreamsError) -> None:
            self.effects.on_retry(type(exc).__name__, attempt, exc.message)
            log.warning("%s: retrying %s[%d]@%d after attempt %d: %s", self.agent, record.topic,
                        record.partition, record.offset, attempt, exc.message)

        try:
            result, _ = await retry_async(call, self.policy.retry, on_retry, failed=first)
        except StreamsError as exc:
            if not exc.retriable:
                self.breaker.record_success()  # the dependencies answered this time; the record is at fault
                raise
            return await self._hold(record, call, exc)
        except Exception:
            self.breaker.record_success()
            raise
        return result

    async def _hold(self, record: RawRecord, call: Callable[[], Awaitable[R]], error: StreamsError) -> R:
        """The breaker is open: pause, then probe with this record until it goes through."""
        self.breaker.open(f"{type(error).__name__}: {error.message}")
        paused = self.effects.pause()
        self.effects.on_breaker(BreakerState.OPEN, paused)
        log.error("%s: circuit breaker open, %s[%d]@%d ran out of retries (%s); %d partition(s) paused, record held",
                  self.agent, record.topic, record.partition, record.offset, error.message, paused)
        try:
            while True:
                await asyncio.sleep(self.breaker.next_wait())
                self.breaker.half_open()
                self.effects.on_breaker(BreakerState.HALF_OPEN, paused)
                try:
                    return await call()
                except StreamsError as exc:
                    if not exc.retriable:
                        raise
                    self.breaker.probe_failed(f"{type(exc).__name__}: {exc.message}")
                    self.effects.on_breaker(BreakerState.OPEN, paused)
                    log.warning("%s: probe failed (%s); next in %.1fs", self.agent, exc.message,
                                self.breaker.next_wait())
        finally:
            self.breaker.record_success()
            self.effects.resume()
            self.effects.on_breaker(BreakerState.CLOSED, 0)
            log.warning("%s: circuit breaker closed, partitions resumed", self.agent)

    # -- dead letters and parking ----------------------------------------------------------------------

    async def _dead_letter(self, record: RawRecord, error: BaseException, state: parking.Parked | None,
                           mark: RedriveMark | None) -> None:
        error_class, message = describe(error)
        if mark is None:  # read lazily by ``process`` (only for a parked key); a released key can be redriven too
            mark = RedriveMark.from_headers(record.headers)
        attempts = error.attempts if isinstance(error, StreamsError) else 1
        sequence = None
        if record.key is not None:
            head = f"{record.topic}:{record.partition}:{record.offset} {error_class}"
            new = parking.after_dead_letter(state, head=head, now=_now(), mark=mark)
            self._set_state(record.key, new)
            sequence = new.sequence
        log.warning("%s: dead-lettering %s[%d]@%d after %d attempt(s): %s: %s", self.agent, record.topic,
                    record.partition, record.offset, attempts, error_class, message)
        headers = dead_letter_headers(record, error_class, message, agent=self.agent, attempts=attempts,
                                      sequence=sequence)
        await self._letter(record, headers, error_class, message)

    async def _park(self, record: RawRecord, key: bytes, state: parking.Parked) -> None:
        new = parking.after_park(state)
        self._set_state(key, new)
        message = f"parked behind the dead letter of key {key!r} from {state.head}"
        headers = dead_letter_headers(record, PARKED, message, agent=self.agent, attempts=0, sequence=new.sequence)
        await self._letter(record, headers, PARKED, message)

    async def _letter(self, record: RawRecord, headers: list[tuple[str, bytes | None]], error_class: str,
                      message: str) -> None:
        """Write the record's letter, unless it reached the topic before a crash (judged again since)."""
        topic = dlq_topic(record.topic)
        if await self._guarded(record, lambda: self.effects.written(topic, record)):
            log.info("%s: %s[%d]@%d was %s before the last recovery; not written again", self.agent, record.topic,
                     record.partition, record.offset, "parked" if error_class == PARKED else "dead-lettered")
            return
        await self.effects.send(topic, record.key, record.value, headers)
        self.effects.on_dead_letter(record.topic, error_class, message)

    def _control(self, record: RawRecord) -> Outcome:
        try:
            request = json.loads(record.value or b"")
            through = request.get("through_sequence")
            action = request["action"]
            if through is not None and (not isinstance(through, int) or isinstance(through, bool)):
                raise ValueError(through)  # not "release everything": that is null
        except (ValueError, KeyError, AttributeError):
            log.warning("%s: ignoring a control record that is not a release request: %r", self.agent, record.value)
            return "released"
        if action == "release" and record.key is not None:
            state = self._state(record.key)
            after = parking.after_release(state, through)
            self._set_state(record.key, after)
            log.warning("%s: release of key %r by %s: %s", self.agent, record.key, request.get("by", "?"),
                        "freed" if after is None else f"still parked (records up to {after.sequence} parked)")
        return "released"

    def _state(self, key: bytes | None) -> parking.Parked | None:
        if key is None:
            return None
        body = self.effects.parked.get(key)
        return parking.Parked.from_json(body) if body is not None else None

    def _set_state(self, key: bytes, state: parking.Parked | None) -> None:
        if state is not None:
            self.effects.parked[key] = state.to_json()
        elif key in self.effects.parked:
            del self.effects.parked[key]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
