"""The baseline: how Faust is usually written. One agent, one event at a time, every send awaited.

Same decode and the same four read-model updates as ``agents/``; no repartition
topics (so it is only correct on one worker), each delta sent with ``await``.
"""

from __future__ import annotations

from typing import Any

from agents.decoding import OrderEventDecoder
from agents.orders.projection import apply_order
from agents.readmodels.customers import apply_customer
from agents.readmodels.inventory import apply_sku
from agents.readmodels.stats import apply_stats
from agents.topics import orders_topic, topic_specs
from streams.app import StreamsApp, build_app
from streams.records import RawRecord
from streams.settings import Settings
from streams.topics import TopicSpec
from streams.web import register_health


def create_app(settings: Settings) -> StreamsApp:
    app = build_app(settings)
    n = settings.topic_partitions
    app.declare_topics([*topic_specs(settings), TopicSpec(f"{settings.topic_prefix}naive-deltas", n)])
    source = app.topic(orders_topic(settings), key_type=bytes, value_type=bytes, value_serializer="raw",
                       partitions=n)
    fanout = app.topic(f"{settings.topic_prefix}naive-deltas", key_type=str, value_serializer="json", partitions=n)
    orders = app.Table("orders", default=None, key_type=str, partitions=n)
    customers = app.Table("customers", default=None, key_type=str, partitions=n)
    inventory = app.Table("inventory", default=None, key_type=str, partitions=n)
    stats = app.Table("stats", default=None, key_type=str, partitions=n)
    decode = OrderEventDecoder(settings)

    @app.agent(source, name="naive")
    async def naive(stream: Any) -> None:
        async for event in stream.events():
            meta, model = decode(RawRecord.from_faust(event.message))
            outcome = apply_order(orders.get(model.order_id), model, meta)
            if outcome.kind != "applied":
                continue
            orders[model.order_id] = outcome.view
            for c in outcome.customers:
                customers[c["customer_id"]] = apply_customer(customers.get(c["customer_id"]), c)
                await fanout.send(key=c["customer_id"], value=c)
            for s in outcome.skus:
                inventory[s["sku"]] = apply_sku(inventory.get(s["sku"]), s)
                await fanout.send(key=s["sku"], value=s)
            for st in outcome.stats:
                view = apply_stats(stats.get("all"), st)
                if view is not None:
                    stats["all"] = view
                await fanout.send(key="all", value=st)

    del naive
    register_health(app)
    return app
