from datetime import UTC, datetime

from streams import headers as h
from streams.avro import BadMagicByteError
from streams.dlq import dead_letter_headers
from tests.support import record


def test_dead_letter_keeps_original_headers_first_and_says_where_and_why() -> None:
    original = (("event_id", b"abc"), ("custom", b"\x00\xff"))
    rec = record(b"\x07garbage", key=b"k", offset=17, partition=2, headers=original)
    headers = dead_letter_headers(rec, BadMagicByteError("magic byte 7"), agent="orders-projection", attempts=1,
                                  now=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    assert headers[: len(original)] == list(original)
    added = dict(headers[len(original):])
    assert added == {
        h.DLQ_ORIGINAL_TOPIC: b"orders", h.DLQ_ORIGINAL_PARTITION: b"2", h.DLQ_ORIGINAL_OFFSET: b"17",
        h.DLQ_ORIGINAL_TIMESTAMP: b"1795000000000", h.DLQ_ERROR_CLASS: b"BadMagicByteError",
        h.DLQ_ERROR_MESSAGE: b"magic byte 7", h.DLQ_ATTEMPTS: b"1", h.DLQ_AGENT: b"orders-projection",
        h.DLQ_FAILED_AT: b"2026-01-02T03:04:05Z",
    }


def test_long_messages_are_cut() -> None:
    headers = dict(dead_letter_headers(record(b"x"), ValueError("y" * 5000), agent="a", attempts=3))
    assert len(headers[h.DLQ_ERROR_MESSAGE]) == 1000
