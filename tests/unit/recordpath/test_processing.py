"""GuardedProcessor with plain effects: retries, dead letters, per-key parking, redrive, release, breaker."""

import asyncio
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from streams import headers as h
from streams.avro import RegistryUnavailableError
from streams.breaker import BreakerPolicy, BreakerState
from streams.dlq.parking import Parked
from streams.errors import ConfigError, DecodeError, TransientError, ValidationError
from streams.recordpath.processing import Effects, GuardedProcessor, ProcessingPolicy, release_request
from streams.recordpath.records import RawRecord
from streams.retry import RetryPolicy
from tests.support import record

CONTROL = "orders.dlq.control"
MAX_ATTEMPTS = 3
ORIGINAL = (("event_id", b"11111111-1111-1111-1111-111111111111"), ("trace", b"\x00\xff"))

Sent = tuple[str, bytes | None, bytes | None, list[tuple[str, bytes]]]


class Prepare:
    """A ``prepare`` that behaves by record value, after raising ``transient`` TransientErrors (counted over calls).

    b"invalid" / b"undecodable": permanent errors (b"invalid" succeeds once ``fixed``); b"down": always transient;
    b"bug": a plain KeyError; b"config": a ConfigError; anything else succeeds with ``[b"out:" + value]``.
    """

    def __init__(self, transient: int = 0) -> None:
        self.transient = transient
        self.fixed = False
        self.seen: list[int] = []  # the offset of the record of each call

    async def __call__(self, rec: RawRecord) -> list[bytes]:
        self.seen.append(rec.offset)
        if self.transient > 0:
            self.transient -= 1
            raise RegistryUnavailableError("registry down")
        value = rec.value or b""
        if value == b"invalid" and not self.fixed:
            raise ValidationError("quantity must be at least 1")
        if value == b"undecodable":
            raise DecodeError("not Avro")
        if value == b"down":
            raise TransientError("still down")
        if value == b"bug":
            raise KeyError("missing")
        if value == b"config":
            raise ConfigError("no such topic configured")
        return [b"out:" + value]


@dataclass
class World:
    parked: dict[bytes, Any] = field(default_factory=dict)
    sent: list[Sent] = field(default_factory=list)
    log: list[Any] = field(default_factory=list)  # pause, resume and breaker changes, in order
    retries: list[str] = field(default_factory=list)
    dead_letters: list[tuple[str, str]] = field(default_factory=list)
    commits: list[tuple[int, Any]] = field(default_factory=list)  # (offset, outputs)

    async def send(self, topic: str, key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]) -> None:
        self.sent.append((topic, key, value, headers))

    def pause(self) -> int:
        self.log.append("pause")
        return 3

    def effects(self) -> Effects:
        return Effects(send=self.send, parked=self.parked, pause=self.pause,
                       resume=lambda: self.log.append("resume"),
                       on_breaker=lambda state, paused: self.log.append((state, paused)),
                       on_retry=lambda error_class, attempt, message: self.retries.append(error_class),
                       on_dead_letter=lambda topic, error_class, _: self.dead_letters.append((topic, error_class)))

    def processor(self, prepare: Prepare) -> GuardedProcessor[Any]:
        def commit(rec: RawRecord, outputs: Any) -> None:
            self.commits.append((rec.offset, outputs))

        policy = ProcessingPolicy(retry=RetryPolicy(max_attempts=MAX_ATTEMPTS, base_delay_s=0.001, max_delay_s=0.001),
                                  breaker=BreakerPolicy(open_s=0.001, max_open_s=0.004))
        return GuardedProcessor(agent="orders-projection", prepare=prepare, commit=commit, effects=self.effects(),
                                policy=policy, control_topic=CONTROL)

    def state(self, key: bytes) -> Parked | None:
        body = self.parked.get(key)
        return Parked.from_json(body) if body is not None else None


def added(sent: Sent, original: tuple[tuple[str, bytes], ...] = ORIGINAL) -> dict[str, bytes]:
    """The headers a dead letter added, after checking the original ones come first, unchanged."""
    headers = sent[3]
    assert headers[: len(original)] == list(original)
    return dict(headers[len(original):])


def live(value: bytes, offset: int, key: bytes | None = b"o-1") -> RawRecord:
    return record(value, key=key, offset=offset, headers=ORIGINAL)


def redriven(value: bytes, offset: int, *, sequence: int, last: bool = False, run: str = "run-1",
             key: bytes = b"o-1") -> RawRecord:
    marks = [(h.DLQ_REDRIVE_ID, run.encode()), (h.DLQ_SEQUENCE, str(sequence).encode()),
             (h.DLQ_REDRIVEN_FROM, f"orders.dlq:0:{sequence}".encode())]
    if last:
        marks.append((h.DLQ_REDRIVE_LAST, b"1"))
    return record(value, key=key, offset=offset, headers=(*ORIGINAL, *marks))


def control(value: bytes | None, key: bytes = b"o-1") -> RawRecord:
    return record(value, key=key, topic=CONTROL)


async def park_key(world: World, processor: GuardedProcessor[Any]) -> None:
    """o-1: offset 0 dead-lettered (sequence 1), offset 1 parked behind it (sequence 2)."""
    assert await processor.process(live(b"invalid", 0)) == "dead_lettered"
    assert await processor.process(live(b"ok-1", 1)) == "parked"
    state = world.state(b"o-1")
    assert state is not None
    assert state.sequence == 2


# -- the common cases ------------------------------------------------------------------------------


async def test_a_record_that_prepares_is_committed_once_with_its_outputs() -> None:
    world, prepare = World(), Prepare()
    outcome = await world.processor(prepare).process(live(b"ok", 7))
    assert outcome == "applied"
    assert world.commits == [(7, [b"out:ok"])]
    assert world.sent == []
    assert world.parked == {}
    assert world.dead_letters == []


@pytest.mark.parametrize(("value", "error_class"), [(b"invalid", "ValidationError"), (b"undecodable", "DecodeError")])
async def test_a_permanent_error_dead_letters_the_record_byte_for_byte_and_parks_its_key(
        value: bytes, error_class: str) -> None:
    world, prepare = World(), Prepare()
    rec = record(value, key=b"o-1", offset=17, partition=2, headers=ORIGINAL)
    assert await world.processor(prepare).process(rec) == "dead_lettered"
    assert prepare.seen == [17]  # not retried
    assert world.retries == []
    assert world.commits == []
    [letter] = world.sent
    assert letter[:3] == ("orders.dlq", b"o-1", value)
    extra = added(letter)
    assert extra[h.DLQ_ERROR_CLASS] == error_class.encode()
    assert extra[h.DLQ_ATTEMPTS] == b"1"
    assert extra[h.DLQ_SEQUENCE] == b"1"
    assert (extra[h.DLQ_ORIGINAL_TOPIC], extra[h.DLQ_ORIGINAL_PARTITION], extra[h.DLQ_ORIGINAL_OFFSET]) == (
        b"orders", b"2", b"17")
    assert extra[h.DLQ_AGENT] == b"orders-projection"
    state = world.state(b"o-1")
    assert state is not None
    assert (state.sequence, state.count, state.head) == (1, 1, f"orders:2:17 {error_class}")
    assert world.dead_letters == [("orders", error_class)]


async def test_later_records_of_a_dead_lettered_key_are_parked_unprocessed_and_other_keys_flow() -> None:
    world, prepare = World(), Prepare()
    processor = world.processor(prepare)
    await park_key(world, processor)
    assert prepare.seen == [0]  # offset 1 was never prepared
    parked = world.sent[1]
    assert parked[:3] == ("orders.dlq", b"o-1", b"ok-1")
    extra = added(parked)
    assert (extra[h.DLQ_ERROR_CLASS], extra[h.DLQ_SEQUENCE], extra[h.DLQ_ATTEMPTS]) == (b"Parked", b"2", b"0")
    assert extra[h.DLQ_ORIGINAL_OFFSET] == b"1"
    assert world.dead_letters == [("orders", "ValidationError"), ("orders", "Parked")]

    assert await processor.process(live(b"ok-2", 2, key=b"o-2")) == "applied"
    assert world.commits == [(2, [b"out:ok-2"])]
    assert b"o-2" not in world.parked
    assert await processor.process(live(b"ok-3", 3)) == "parked"  # o-1 still parked: sequence 3
    assert added(world.sent[-1])[h.DLQ_SEQUENCE] == b"3"


async def test_a_transient_error_is_retried_in_place_until_the_record_goes_through() -> None:
    world, prepare = World(), Prepare(transient=MAX_ATTEMPTS - 1)
    assert await world.processor(prepare).process(live(b"ok", 4)) == "applied"
    assert prepare.seen == [4] * MAX_ATTEMPTS
    assert world.retries == ["RegistryUnavailableError"] * (MAX_ATTEMPTS - 1)
    assert world.commits == [(4, [b"out:ok"])]
    assert world.sent == []
    assert world.parked == {}


# -- the breaker -----------------------------------------------------------------------------------


async def test_a_transient_error_never_dead_letters_the_first_record_out_of_retries_is_held_until_a_probe_succeeds(
) -> None:
    failed_probes = 2
    world, prepare = World(), Prepare(transient=MAX_ATTEMPTS + failed_probes)
    processor = world.processor(prepare)
    async with asyncio.timeout(5):
        first = await processor.process(live(b"ok-a", 0, key=b"o-a"))

    assert first == "applied"  # held, then applied: never dead-lettered
    assert world.sent == []
    assert world.commits == [(0, [b"out:ok-a"])]
    assert prepare.seen == [0] * (MAX_ATTEMPTS + failed_probes + 1)
    assert world.parked == {}
    open_, half = (BreakerState.OPEN, 3), (BreakerState.HALF_OPEN, 3)
    assert world.log == ["pause", open_, half, open_, half, open_, half, "resume", (BreakerState.CLOSED, 0)]
    assert (processor.breaker.state, processor.breaker.waiting_for) == (BreakerState.CLOSED, None)


async def test_an_open_breaker_says_what_it_waits_for_while_it_holds() -> None:
    world, prepare = World(), Prepare(transient=MAX_ATTEMPTS + 1)
    processor = world.processor(prepare)
    seen: list[Any] = []
    world_breaker = world.effects().on_breaker

    def on_breaker(state: BreakerState, paused: int) -> None:
        seen.append((state, processor.breaker.waiting_for))
        world_breaker(state, paused)

    processor.effects = replace(processor.effects, on_breaker=on_breaker)
    async with asyncio.timeout(5):
        assert await processor.process(live(b"ok-a", 0, key=b"o-a")) == "applied"
    assert seen[0][0] is BreakerState.OPEN
    assert "RegistryUnavailableError" in (seen[0][1] or "")
    assert seen[-1] == (BreakerState.CLOSED, None)


async def test_a_permanent_error_after_transient_ones_is_dead_lettered_and_the_breaker_stays_closed() -> None:
    world, prepare = World(), Prepare()
    processor = world.processor(prepare)
    async with asyncio.timeout(5):
        outcomes = [await processor.process(live(value, offset, key=b"o-%d" % offset))
                    for offset, value in enumerate([b"ok", b"invalid", b"ok"])]
    assert outcomes == ["applied", "dead_lettered", "applied"]
    assert world.log == []  # never paused
    assert [added(s)[h.DLQ_ERROR_CLASS] for s in world.sent] == [b"ValidationError"]


# -- keyless records, handler bugs, configuration errors -------------------------------------------


async def test_a_keyless_record_that_fails_is_dead_lettered_without_a_sequence_and_parks_nothing() -> None:
    world, prepare = World(), Prepare()
    processor = world.processor(prepare)
    assert await processor.process(live(b"invalid", 0, key=None)) == "dead_lettered"
    [letter] = world.sent
    assert letter[:3] == ("orders.dlq", None, b"invalid")
    assert h.DLQ_SEQUENCE not in added(letter)
    assert world.parked == {}
    assert await processor.process(live(b"ok", 1, key=None)) == "applied"  # the next keyless record is not held back


async def test_a_bug_in_the_handler_dead_letters_the_record_with_its_exception_class() -> None:
    world, prepare = World(), Prepare()
    assert await world.processor(prepare).process(live(b"bug", 0)) == "dead_lettered"
    [letter] = world.sent
    extra = added(letter)
    assert (extra[h.DLQ_ERROR_CLASS], extra[h.DLQ_ATTEMPTS]) == (b"KeyError", b"1")
    assert b"missing" in extra[h.DLQ_ERROR_MESSAGE]
    assert world.commits == []
    assert world.state(b"o-1") is not None


async def test_an_error_that_is_neither_retriable_nor_a_dead_letter_stops_processing() -> None:
    world, prepare = World(), Prepare()
    with pytest.raises(ConfigError):
        await world.processor(prepare).process(live(b"config", 0))
    assert world.sent == []
    assert world.parked == {}
    assert world.commits == []


# -- redrive ---------------------------------------------------------------------------------------


async def test_a_complete_redrive_applies_the_parked_records_in_order_and_frees_the_key() -> None:
    world, prepare = World(), Prepare()
    processor = world.processor(prepare)
    await park_key(world, processor)
    prepare.fixed = True  # the handler was fixed, then the dead letters redriven

    assert await processor.process(redriven(b"invalid", 10, sequence=1)) == "applied"
    assert world.state(b"o-1") is not None  # not the last record of the run
    assert await processor.process(redriven(b"ok-1", 11, sequence=2, last=True)) == "applied"
    assert b"o-1" not in world.parked
    assert await processor.process(live(b"ok-2", 12)) == "applied"
    assert [offset for offset, _ in world.commits] == [10, 11, 12]
    assert len(world.sent) == 2  # nothing more went to the dead-letter topic


async def test_a_redrive_does_not_free_a_key_whose_newer_records_were_parked_meanwhile() -> None:
    world, prepare = World(), Prepare()
    processor = world.processor(prepare)
    await park_key(world, processor)
    prepare.fixed = True
    assert await processor.process(redriven(b"invalid", 10, sequence=1)) == "applied"
    assert await processor.process(live(b"ok-3", 11)) == "parked"  # sequence 3, after the redrive was planned
    assert await processor.process(redriven(b"ok-1", 12, sequence=2, last=True)) == "applied"
    state = world.state(b"o-1")
    assert state is not None
    assert state.sequence == 3
    assert await processor.process(live(b"ok-4", 13)) == "parked"


async def test_a_redriven_record_that_fails_again_parks_the_rest_of_its_run_and_the_key_stays_parked() -> None:
    world, prepare = World(), Prepare()
    processor = world.processor(prepare)
    await park_key(world, processor)

    assert await processor.process(redriven(b"invalid", 10, sequence=1)) == "dead_lettered"
    again = world.sent[-1]
    assert again[2] == b"invalid"
    assert added(again, ORIGINAL)[h.DLQ_ERROR_CLASS] == b"ValidationError"
    assert world.state(b"o-1") == Parked(sequence=3, count=3, since=world.parked[b"o-1"]["since"],
                                         head="orders:0:0 ValidationError", failed_runs=("run-1",))
    assert await processor.process(redriven(b"ok-1", 11, sequence=2, last=True)) == "parked"
    assert prepare.seen == [0, 10]  # the rest of the run is not prepared
    sequences = [int(dict(s[3])[h.DLQ_SEQUENCE]) for s in world.sent]  # the last value of a repeated header
    assert sequences == [1, 2, 3, 4]
    assert [dict(s[3])[h.DLQ_ERROR_CLASS] for s in world.sent] == [b"ValidationError", b"Parked",
                                                                     b"ValidationError", b"Parked"]
    state = world.state(b"o-1")
    assert state is not None
    assert state.sequence == 4
    assert await processor.process(live(b"ok-5", 12)) == "parked"

    # once fixed, a new run drains the key
    prepare.fixed = True
    assert await processor.process(redriven(b"invalid", 20, sequence=3, run="run-2")) == "applied"
    assert await processor.process(redriven(b"ok-1", 21, sequence=4, run="run-2")) == "applied"
    assert await processor.process(redriven(b"ok-5", 22, sequence=5, run="run-2", last=True)) == "applied"
    assert b"o-1" not in world.parked


# -- release through the control topic -------------------------------------------------------------


@pytest.mark.parametrize("through", [2, 5, None])
async def test_a_release_through_the_last_sequence_frees_the_key(through: int | None) -> None:
    world, prepare = World(), Prepare()
    processor = world.processor(prepare)
    await park_key(world, processor)
    assert await processor.process(control(release_request(through, by="ops"))) == "released"
    assert b"o-1" not in world.parked
    assert prepare.seen == [0]  # a control record is not prepared
    assert await processor.process(live(b"ok-2", 5)) == "applied"
    assert world.commits == [(5, [b"out:ok-2"])]


async def test_a_release_does_not_free_a_key_with_records_parked_after_it() -> None:
    world, prepare = World(), Prepare()
    processor = world.processor(prepare)
    await park_key(world, processor)
    before = dict(world.parked)
    assert await processor.process(control(release_request(1, by="ops"))) == "released"
    assert world.parked == before
    assert await processor.process(live(b"ok-2", 5)) == "parked"


@pytest.mark.parametrize("value", [None, b"", b"not json", b"\xff\xfe", b"[1, 2]", b'"release"', b"42",
                                   b'{"through_sequence": 9}', b'{"action": "bogus", "through_sequence": 9}'])
async def test_a_malformed_control_record_is_ignored(value: bytes | None) -> None:
    world, prepare = World(), Prepare()
    processor = world.processor(prepare)
    await park_key(world, processor)
    before, sent = dict(world.parked), len(world.sent)
    assert await processor.process(control(value)) == "released"
    assert world.parked == before
    assert len(world.sent) == sent


async def test_a_release_of_a_key_that_is_not_parked_changes_nothing() -> None:
    world, prepare = World(), Prepare()
    processor = world.processor(prepare)
    assert await processor.process(control(release_request(None, by="ops"), key=b"o-9")) == "released"
    assert world.parked == {}
    assert await processor.process(control(release_request(None, by="ops"), key=b"")) == "released"


async def test_a_redrive_of_a_released_key_that_fails_again_still_parks_the_rest_of_its_run() -> None:
    world, prepare = World(), Prepare()
    processor = world.processor(prepare)
    await park_key(world, processor)
    assert await processor.process(control(release_request(None, by="ops"))) == "released"  # unblock live traffic
    assert b"o-1" not in world.parked

    # later, the dead letters are redriven before the handler is fixed: the first fails again
    assert await processor.process(redriven(b"invalid", 10, sequence=1)) == "dead_lettered"
    assert await processor.process(redriven(b"ok-1", 11, sequence=2, last=True)) == "parked"  # not before offset 10
    assert prepare.seen == [0, 10]
    assert world.commits == []
    state = world.state(b"o-1")
    assert state is not None
    assert state.failed_runs == ("run-1",)


@pytest.mark.parametrize("through", ['"1"', "1.5", "true", "[1]"])
async def test_a_release_with_a_malformed_sequence_is_ignored_not_taken_as_release_everything(through: str) -> None:
    world, prepare = World(), Prepare()
    processor = world.processor(prepare)
    await park_key(world, processor)
    before = dict(world.parked)
    value = b'{"action": "release", "through_sequence": %s, "by": "a script"}' % through.encode()
    assert await processor.process(control(value)) == "released"
    assert world.parked == before


# -- judged again after a crash ---------------------------------------------------------------------------


async def test_a_letter_already_written_before_a_crash_is_not_written_again_but_the_key_is_parked_again() -> None:
    world, prepare = World(), Prepare()
    processor = world.processor(prepare)
    before_crash = {0}  # offset 0's letter reached the topic; offset 1's parked record did not

    async def written(topic: str, rec: RawRecord) -> bool:
        return rec.offset in before_crash

    processor.effects = replace(processor.effects, written=written)
    assert await processor.process(live(b"invalid", 0)) == "dead_lettered"
    assert await processor.process(live(b"ok-1", 1)) == "parked"
    assert [s[2] for s in world.sent] == [b"ok-1"]  # only the parked record's letter is written
    assert world.dead_letters == [("orders", "Parked")]
    state = world.state(b"o-1")
    assert state is not None
    assert state.sequence == 2  # the key's state is what it was the first time


async def test_kafka_down_while_a_letter_is_looked_up_holds_the_record_it_never_crashes_or_skips_the_letter() -> None:
    failed_probes = 1
    world, prepare = World(), Prepare()
    processor = world.processor(prepare)
    lookups: list[int] = []

    async def written(topic: str, rec: RawRecord) -> bool:  # the dead-letter topic cannot be read for a while
        lookups.append(rec.offset)
        if len(lookups) <= MAX_ATTEMPTS + failed_probes:
            raise TransientError("cannot reach Kafka")
        return False

    processor.effects = replace(processor.effects, written=written)
    async with asyncio.timeout(5):
        assert await processor.process(live(b"invalid", 0)) == "dead_lettered"

    assert lookups == [0] * (MAX_ATTEMPTS + failed_probes + 1)  # retried, then held and probed, never given up
    assert [s[2] for s in world.sent] == [b"invalid"]  # the letter, written once the topic could be read
    assert world.dead_letters == [("orders", "ValidationError")]
    assert world.retries == ["TransientError"] * (MAX_ATTEMPTS - 1)
    open_, half = (BreakerState.OPEN, 3), (BreakerState.HALF_OPEN, 3)
    assert world.log == ["pause", open_, half, open_, half, "resume", (BreakerState.CLOSED, 0)]
