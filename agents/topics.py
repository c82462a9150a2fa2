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


def internal(settings: Settings, name: str) -> str:
    return f"{settings.app_id}-{name}"


def topic_specs(settings: Settings) -> list[TopicSpec]:
    n = settings.topic_partitions
    return [
        TopicSpec(ORDERS, n),
        TopicSpec(dlq_topic(ORDERS), n),
        *(TopicSpec(internal(settings, name), n) for name in (CUSTOMER_DELTAS, SKU_DELTAS, STATS_DELTAS)),
    ]
