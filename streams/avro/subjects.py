"""Subject name strategies, named and built as Confluent's serializers do."""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["SubjectStrategy", "record_subject", "topic_record_subject", "topic_subject"]

SubjectStrategy = Callable[[str, str], str]
"""(topic, record full name) -> subject."""


def topic_record_subject(topic: str, record_full_name: str) -> str:
    """TopicRecordNameStrategy: several record types in one topic (``orders-com.acme.orders.OrderPlaced``)."""
    return f"{topic}-{record_full_name}"


def topic_subject(topic: str, record_full_name: str = "", *, is_key: bool = False) -> str:
    """TopicNameStrategy, Confluent's default: one record type per topic (``orders-value``)."""
    return f"{topic}-{'key' if is_key else 'value'}"


def record_subject(topic: str, record_full_name: str) -> str:
    """RecordNameStrategy: the record's full name, whatever the topic."""
    return record_full_name
