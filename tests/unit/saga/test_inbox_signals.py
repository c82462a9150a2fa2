"""The inbox's timer and retry records: what the timer loop and POST /sagas/{id}/retry write reads back as the same
input, and a record that cannot be one is a decode or validation error (a dead letter), never a crash."""

from __future__ import annotations

from typing import Any, cast

import pytest

from agents.decoding import OrderEventDecoder
from agents.saga.inbox import RETRY, TIMER, SagaInbox, signal
from agents.saga.state import Retry, Timer, record_id
from streams.errors import DecodeError, ValidationError
from streams.recordpath.records import RawRecord


class NoEvents:
    async def decode(self, record: RawRecord) -> Any:
        raise AssertionError("a timer or a retry is not an order event")


INBOX = SagaInbox(cast(OrderEventDecoder, NoEvents()))
TIMER_ID, RETRY_ID = record_id("o-1", f"{TIMER}/inventory/2"), record_id("o-1", f"{RETRY}/3")  # event ids: UUIDs


def record(key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]) -> RawRecord:
    return RawRecord(topic="inbox", partition=0, offset=7, timestamp_ms=0, key=key, value=value,
                     headers=headers)


async def test_a_timer_record_reads_back_as_its_step_and_attempt() -> None:
    key, value, headers = signal(TIMER, "o-1", TIMER_ID, "streams/saga-timer", {"step": "inventory", "attempt": 2})
    assert await INBOX.decode(record(key, value, headers)) == ("o-1", Timer("inventory", 2, TIMER_ID))


async def test_a_retry_record_reads_back_as_a_retry() -> None:
    key, value, headers = signal(RETRY, "o-1", RETRY_ID, "streams/saga", {})
    assert await INBOX.decode(record(key, value, headers)) == ("o-1", Retry(RETRY_ID))


@pytest.mark.parametrize(("key", "value", "error", "words"), [
    (None, b'{"step": "payment", "attempt": 1}', ValidationError, "needs the order id as its key"),
    (b"o-1", b"not json", DecodeError, "not JSON"),
    (b"\xff", b'{"step": "payment", "attempt": 1}', DecodeError, "UTF-8"),
    (b"o-1", b'{"step": "lunch", "attempt": 1}', ValidationError, "a step (one of payment, inventory, shipment"),
    (b"o-1", b'{"step": "payment", "attempt": 0}', ValidationError, "an attempt >= 1"),
    (b"o-1", b'{"step": "payment", "attempt": "1"}', ValidationError, "an attempt >= 1"),
    (b"o-1", b'["payment", 1]', ValidationError, "a step"),
], ids=["no-key", "not-json", "key-not-utf8", "unknown-step", "attempt-0", "attempt-text", "not-an-object"])
async def test_a_timer_that_cannot_be_one_is_a_dead_letter_saying_why(
        key: bytes | None, value: bytes, error: type[Exception], words: str) -> None:
    _, _, headers = signal(TIMER, "o-1", TIMER_ID, "streams/saga-timer", {})
    with pytest.raises(error, match=words.replace("(", r"\(")):
        await INBOX.decode(record(key, value, headers))
