"""Every topic of the order domain, in one table (the contract clients and operators rely on)."""

from __future__ import annotations

from agents.fanout import RULES, SAGA_INBOX
from agents.services.topics import service_topic_specs
from streams.recordpath.agent import control_topic
from streams.settings import Settings
from streams.topics import TopicSpec, dlq_topic

__all__ = ["CUSTOMER_DELTAS", "ORDERS", "SAGA_INBOX", "SKU_DELTAS", "STATS_DELTAS", "internal", "orders_topic",
           "saga_inbox", "topic_name", "topic_specs"]

ORDERS = "orders"

# Internal repartition topics (prefixed with the app id, as Faust names its own).
CUSTOMER_DELTAS = "customer-deltas"
SKU_DELTAS = "sku-deltas"
STATS_DELTAS = "stats-deltas"


def topic_name(settings: Settings, name: str) -> str:
    """A topic of the domain (``orders``, a fan-out target), behind STREAMS_TOPIC_PREFIX when one is set."""
    return f"{settings.topic_prefix}{name}"


def orders_topic(settings: Settings) -> str:
    return topic_name(settings, ORDERS)


def internal(settings: Settings, name: str) -> str:
    return f"{settings.topic_prefix}{settings.app_id}-{name}"


def saga_inbox(settings: Settings) -> str:
    """The order events the saga acts on, its timers and its retries (``agents.saga.inbox``)."""
    return internal(settings, SAGA_INBOX)


def topic_specs(settings: Settings) -> list[TopicSpec]:
    n = settings.topic_partitions
    orders = orders_topic(settings)
    targets = sorted({rule.target for rule in RULES})
    return [
        TopicSpec(orders, n),
        TopicSpec(dlq_topic(orders), n),
        TopicSpec(control_topic(orders), n),
        *(TopicSpec(topic_name(settings, target), n) for target in targets),
        *(TopicSpec(internal(settings, name), n) for name in (CUSTOMER_DELTAS, SKU_DELTAS, STATS_DELTAS)),
        *(TopicSpec(topic, n) for topic in (saga_inbox(settings), dlq_topic(saga_inbox(settings)),
                                           control_topic(saga_inbox(settings)))),
        *service_topic_specs(settings),
    ]
