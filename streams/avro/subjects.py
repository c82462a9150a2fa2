"""Subject name strategies, as Confluent's serializers name them."""

from __future__ import annotations

__all__ = ["record_subject", "topic_record_subject", "topic_subject"]


def topic_record_subject(topic: str, record_full_name: str) -> str:
    """TopicRecordNameStrategy: several record types in one topic (``orders-com.acme.orders.OrderPlaced``)."""
    return f"{topic}-{record_full_name}"


def topic_subject(topic: str, *, is_key: bool = False) -> str:
    """TopicNameStrategy, Confluent's default."""
    return f"{topic}-{'key' if is_key else 'value'}"


def record_subject(record_full_name: str) -> str:
    """RecordNameStrategy."""
    return record_full_name
