from datetime import UTC, datetime

from streams import headers as h
from streams.avro import BadMagicByteError
from streams.dlq import DeadLetter, dead_letter_headers, describe
from tests.support import record


def test_dead_letter_keeps_original_headers_first_and_says_where_and_why() -> None:
    original = (("event_id", b"abc"), ("custom", b"\x00\xff"))
    rec = record(b"\x07garbage", key=b"k", offset=17, partition=2, headers=original)
    headers = dead_letter_headers(rec, *describe(BadMagicByteError("magic byte 7")), agent="orders-projection",
                                  attempts=1, sequence=3, now=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    assert headers[: len(original)] == list(original)
    added = dict(headers[len(original):])
    assert added == {
        h.DLQ_ORIGINAL_TOPIC: b"orders", h.DLQ_ORIGINAL_PARTITION: b"2", h.DLQ_ORIGINAL_OFFSET: b"17",
        h.DLQ_ORIGINAL_TIMESTAMP: b"1795000000000", h.DLQ_ERROR_CLASS: b"BadMagicByteError",
        h.DLQ_ERROR_MESSAGE: b"magic byte 7", h.DLQ_ATTEMPTS: b"1", h.DLQ_AGENT: b"orders-projection",
        h.DLQ_FAILED_AT: b"2026-01-02T03:04:05.000Z", h.DLQ_SEQUENCE: b"3",
    }


def test_long_messages_are_cut() -> None:
    headers = dict(dead_letter_headers(record(b"x"), *describe(ValueError("y" * 5000)), agent="a", attempts=3))
    assert len(headers[h.DLQ_ERROR_MESSAGE]) == 1000
    assert h.DLQ_SEQUENCE not in headers  # a keyless record has no sequence


def test_a_dead_letter_reads_back_with_the_original_headers_byte_for_byte() -> None:
    original = (("event_id", b"abc"), ("trace", b"\x00\xff"), ("event_id", b"second"), ("empty", b""),
                ("null", None))  # a null header stays null, not empty
    rec = record(b"\x07garbage", key=b"k", offset=17, partition=2, headers=original)
    headers = dead_letter_headers(rec, "BadMagicByteError", "magic byte 7", agent="orders-projection", attempts=2,
                                  sequence=1)
    in_dlq = record(rec.value, key=rec.key, offset=5, partition=2, headers=tuple(headers), topic="orders.dlq")
    letter = DeadLetter.from_record(in_dlq)
    assert letter.original_headers == original
    assert (letter.original_topic, letter.original_partition, letter.original_offset) == ("orders", 2, 17)
    assert (letter.error_class, letter.attempts, letter.sequence, letter.where) == (
        "BadMagicByteError", 2, 1, "orders.dlq:2:5")
    body = letter.to_json()
    assert body["key"] == "k"
    assert body["headers"]["trace"] == "0x00ff"  # not UTF-8: shown as hex
    assert (body["headers"]["empty"], body["headers"]["null"]) == ("", None)
