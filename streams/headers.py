"""Kafka header names: the event envelope (``streams.envelope``) and the dead-letter additions.

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
    "DLQ_REDRIVEN_FROM",
    "DLQ_REDRIVE_ID",
    "DLQ_REDRIVE_LAST",
    "DLQ_SEQUENCE",
    "ENVELOPE",
    "EVENT_ID",
    "EVENT_TYPE",
    "OCCURRED_AT",
    "PRODUCER",
    "SOURCE",
    "TRACEPARENT",
    "TRACESTATE",
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

DLQ_SEQUENCE = "dlq_sequence"
"""Per key: the place of a record in its key's run of dead-lettered and parked records (1, 2, ...)."""

DLQ_HEADERS = (
    DLQ_ORIGINAL_TOPIC, DLQ_ORIGINAL_PARTITION, DLQ_ORIGINAL_OFFSET, DLQ_ORIGINAL_TIMESTAMP,
    DLQ_ERROR_CLASS, DLQ_ERROR_MESSAGE, DLQ_ATTEMPTS, DLQ_AGENT, DLQ_FAILED_AT, DLQ_SEQUENCE,
)

# Set by `streams dlq redrive` on the records it sends back to their original topic.
DLQ_REDRIVE_ID = "dlq_redrive_id"
"""The redrive run (a UUID), also its audit-log entry."""
DLQ_REDRIVE_LAST = "dlq_redrive_last"
"""``1`` on the last record of a key in a redrive run: once it is applied, the key is no longer parked."""
DLQ_REDRIVEN_FROM = "dlq_redriven_from"
"""``<dlq topic>:<partition>:<offset>`` the record was redriven from."""

SOURCE = "streams_source"
"""On changelog records: ``<topic>:<partition>:<offset>`` of the source record whose processing wrote it."""

# W3C trace context (https://www.w3.org/TR/trace-context/), as OpenTelemetry's Kafka instrumentations write it.
TRACEPARENT = "traceparent"
"""``00-<trace id>-<parent span id>-<flags>``: the span that produced the record (``streams.tracing``)."""
TRACESTATE = "tracestate"
"""Vendor trace state, carried along with ``traceparent``."""
