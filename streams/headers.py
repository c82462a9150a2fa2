"""Kafka header names: the event envelope of DESIGN.md and the dead-letter additions.

Every name lives here once; code imports the constant, never the string.
"""

from __future__ import annotations

__all__ = [
    "CAUSATION_ID",
    "CORRELATION_ID",
    "DLQ_AGENT",
    "DLQ_ATTEMPTS",
    "DLQ_ERROR_CLASS",
    "DLQ_ERROR_MESSAGE",
    "DLQ_FAILED_AT",
    "DLQ_HEADERS",
    "DLQ_ORIGINAL_OFFSET",
    "DLQ_ORIGINAL_PARTITION",
    "DLQ_ORIGINAL_TIMESTAMP",
    "DLQ_ORIGINAL_TOPIC",
    "ENVELOPE",
    "EVENT_ID",
    "EVENT_TYPE",
    "OCCURRED_AT",
    "PRODUCER",
]

EVENT_ID = "event_id"
EVENT_TYPE = "event_type"
CORRELATION_ID = "correlation_id"
CAUSATION_ID = "causation_id"
OCCURRED_AT = "occurred_at"
PRODUCER = "producer"

ENVELOPE = (EVENT_ID, EVENT_TYPE, CORRELATION_ID, CAUSATION_ID, OCCURRED_AT, PRODUCER)

DLQ_ORIGINAL_TOPIC = "dlq_original_topic"
DLQ_ORIGINAL_PARTITION = "dlq_original_partition"
DLQ_ORIGINAL_OFFSET = "dlq_original_offset"
DLQ_ORIGINAL_TIMESTAMP = "dlq_original_timestamp"
DLQ_ERROR_CLASS = "dlq_error_class"
DLQ_ERROR_MESSAGE = "dlq_error_message"
DLQ_ATTEMPTS = "dlq_attempts"
DLQ_AGENT = "dlq_agent"
DLQ_FAILED_AT = "dlq_failed_at"

DLQ_HEADERS = (
    DLQ_ORIGINAL_TOPIC, DLQ_ORIGINAL_PARTITION, DLQ_ORIGINAL_OFFSET, DLQ_ORIGINAL_TIMESTAMP,
    DLQ_ERROR_CLASS, DLQ_ERROR_MESSAGE, DLQ_ATTEMPTS, DLQ_AGENT, DLQ_FAILED_AT,
)
