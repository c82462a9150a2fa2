"""Dead letters that lose nothing: the original bytes plus where and why.

A dead letter keeps the original key, value and headers byte for byte and adds
the ``dlq_*`` headers of ``streams.headers``; it is produced to ``<topic>.dlq``
with the same key, so a key's dead letters stay in order on one partition.
"""

from __future__ import annotations

from datetime import UTC, datetime

from streams import headers as h
from streams.records import RawRecord

__all__ = ["dead_letter_headers"]

MAX_MESSAGE = 1000


def dead_letter_headers(record: RawRecord, error: BaseException, *, agent: str, attempts: int,
                        now: datetime | None = None) -> list[tuple[str, bytes]]:
    """The original headers followed by the dead-letter headers (original ones kept first, in order)."""
    failed_at = (now or datetime.now(UTC)).isoformat().replace("+00:00", "Z")
    message = str(error)[:MAX_MESSAGE]
    extra = [
        (h.DLQ_ORIGINAL_TOPIC, record.topic),
        (h.DLQ_ORIGINAL_PARTITION, str(record.partition)),
        (h.DLQ_ORIGINAL_OFFSET, str(record.offset)),
        (h.DLQ_ORIGINAL_TIMESTAMP, str(record.timestamp_ms)),
        (h.DLQ_ERROR_CLASS, type(error).__name__),
        (h.DLQ_ERROR_MESSAGE, message),
        (h.DLQ_ATTEMPTS, str(attempts)),
        (h.DLQ_AGENT, agent),
        (h.DLQ_FAILED_AT, failed_at),
    ]
    return [*record.headers, *((name, value.encode()) for name, value in extra)]
