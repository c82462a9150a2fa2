"""Every topic of the order domain, in one table (DESIGN.md names them)."""

from __future__ import annotations

from streams.settings import Settings
from streams.topics import TopicSpec, dlq_topic

__all__ = ["CUSTOMER_DELTAS", "ORDERS", "SKU_DELTAS", "STATS_DELTAS", "internal", "topic_specs"]

ORDERS = "orders"

# Internal repartition topics (prefixed with the app id, as Faust names its own).
CUSTOMER_DELTAS = "customer-deltas"
SKU_DELTAS = "sku-deltas"
STATS_DELTAS = "stats-deltas"


def orders_topic(settings: Settings) -> str:
    """``orders``, behind STREAMS_TOPIC_PREFIX when one is set."""
    return f"{settings.topic_prefix}{ORDERS}"


def internal(settings: Settings, name: str) -> str:
    return f"{settings.topic_prefix}{settings.app_id}-{name}"


def topic_specs(settings: Settings) -> list[TopicSpec]:
    n = settings.topic_partitions
    return [
        TopicSpec(orders_topic(settings), n),
        TopicSpec(dlq_topic(orders_topic(settings)), n),
        *(TopicSpec(internal(settings, name), n) for name in (CUSTOMER_DELTAS, SKU_DELTAS, STATS_DELTAS)),
    ]
