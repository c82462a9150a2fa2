"""The baseline: how Faust is usually written. One agent, one event at a time, every send awaited.

Same decode, the same four read-model updates and the same fan-out as
``agents/`` (the same rules, through the same ``Fanout``); a record that does
not decode goes to the dead-letter topic with an awaited send.  No repartition
topics (so it is only correct on one worker), no parking, no retries.
"""

from __future__ import annotations

from typing import Any

from agents.app import create_fanout
from agents.decoding import OrderEventDecoder
from agents.fanout import RULES
from agents.orders.projection import apply_order
from agents.readmodels.customers import apply_customer
from agents.readmodels.inventory import apply_sku
from agents.readmodels.stats import apply_stats
from agents.topics import orders_topic, topic_specs
from streams.app import StreamsApp, build_app
from streams.dlq import dead_letter_headers, describe
from streams.errors import StreamsError
from streams.recordpath.records import RawRecord
from streams.settings import Settings
from streams.topics import TopicSpec, dlq_topic
from streams.web import register_health


def create_app(settings: Settings, *, fan_out: bool = True) -> StreamsApp:
    app = build_app(settings)
    n = settings.topic_partitions
    app.declare_topics([*topic_specs(settings), TopicSpec(f"{settings.topic_prefix}naive-deltas", n)])
    source = app.topic(orders_topic(settings), key_type=bytes, value_type=bytes, value_serializer="raw",
                       partitions=n)
    deltas = app.topic(f"{settings.topic_prefix}naive-deltas", key_type=str, value_serializer="json", partitions=n)
    orders = app.Table("orders", default=None, key_type=str, partitions=n)
    customers = app.Table("customers", default=None, key_type=str, partitions=n)
    inventory = app.Table("inventory", default=None, key_type=str, partitions=n)
    stats = app.Table("stats", default=None, key_type=str, partitions=n)
    decoder = OrderEventDecoder(settings)
    fanout = create_fanout(settings, decoder, RULES if fan_out else ())

    @app.agent(source, name="naive")
    async def naive(stream: Any) -> None:
        async for event in stream.events():
            record = RawRecord.from_faust(event.message)
            try:
                decoded = await decoder.decode(record)
            except StreamsError as exc:
                headers = dead_letter_headers(record, *describe(exc), agent="naive", attempts=1)
                await app.producer.send(dlq_topic(record.topic), record.key, record.value, None, None, headers)
                continue
            outcome = apply_order(orders.get(decoded.event.order_id), decoded.event, decoded.meta)
            if outcome.kind != "applied":
                continue
            orders[decoded.event.order_id] = outcome.view
            for c in outcome.customers:
                customers[c["customer_id"]] = apply_customer(customers.get(c["customer_id"]), c)
                await deltas.send(key=c["customer_id"], value=c)
            for s in outcome.skus:
                inventory[s["sku"]] = apply_sku(inventory.get(s["sku"]), s)
                await deltas.send(key=s["sku"], value=s)
            for st in outcome.stats:
                view = apply_stats(stats.get("all"), st)
                if view is not None:
                    stats["all"] = view
                await deltas.send(key="all", value=st)
            outputs = await fanout.outputs(decoded.meta.event_type, decoded.fields, key=record.key,
                                           value=record.value or b"", envelope=decoded.envelope)
            for out in outputs:
                await app.producer.send(out.topic, out.key, out.value, None, None, out.headers)

    del naive
    register_health(app)
    return app


def create_app_without_fanout(settings: Settings) -> StreamsApp:
    """The naive agent doing only decode, the four read models and the delta sends (issue 4's baseline)."""
    return create_app(settings, fan_out=False)
