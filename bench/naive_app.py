"""The baseline: Faust as its documentation would have it written. One event at a time, every send awaited,
each table written from its own key's partitions through ``group_by``.

Same decode, the same four read-model updates and the same fan-out as ``agents/`` (the same pure functions and
rules, through the same ``Fanout``); a record that does not decode goes to the dead-letter topic with an awaited
send.  The ``naive`` agent consumes ``orders`` and writes the orders table (keyed by order id, like the topic); it
sends each delta of an applied event to its read model's topic, and that read model's agent repartitions the deltas
with ``stream.group_by`` on the read model's key (customer id, SKU, the constant stats key), so that a customer's
or the stats row lives in one partition of its table: right on read, on one worker or many.  (A table written
straight from the ``orders`` agent keeps one copy of each customer per ``orders`` partition: docs/faust-notes.md.)
No parking, no retries, no delta given once after a crash, no HTTP reads of the views.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agents.app import create_fanout
from agents.decoding import OrderEventDecoder
from agents.fanout import RULES
from agents.orders.projection import apply_order
from agents.readmodels.customers import apply_customer
from agents.readmodels.inventory import apply_sku
from agents.readmodels.stats import STATS_KEY, apply_stats
from agents.topics import orders_topic, topic_specs
from streams.app import StreamsApp, build_app
from streams.dlq import dead_letter_headers, describe
from streams.errors import StreamsError
from streams.recordpath.records import RawRecord
from streams.settings import Settings
from streams.topics import TopicSpec, dlq_topic
from streams.web import register_health

READ_MODELS: dict[str, tuple[Callable[[Any], str], Callable[[Any, Any], Any]]] = {
    "customers": (lambda delta: delta["customer_id"], apply_customer),
    "inventory": (lambda delta: delta["sku"], apply_sku),
    "stats": (lambda delta: STATS_KEY, apply_stats),
}
"""Each read model fed by deltas: the key it is partitioned by, and how a delta changes its row."""


def deltas_topic(settings: Settings, model: str) -> str:
    return f"{settings.topic_prefix}naive-{model}-deltas"


def create_app(settings: Settings, *, fan_out: bool = True) -> StreamsApp:
    app = build_app(settings)
    n = settings.topic_partitions
    app.declare_topics([*topic_specs(settings), *(TopicSpec(deltas_topic(settings, m), n) for m in READ_MODELS)])
    source = app.topic(orders_topic(settings), key_type=bytes, value_type=bytes, value_serializer="raw",
                       partitions=n)
    deltas = {m: app.topic(deltas_topic(settings, m), key_type=str, value_serializer="json", partitions=n)
              for m in READ_MODELS}
    orders = app.Table("orders", default=None, key_type=str, partitions=n)
    tables = {m: app.Table(m, default=None, key_type=str, partitions=n) for m in READ_MODELS}
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
            for model, sent in (("customers", outcome.customers), ("inventory", outcome.skus),
                                ("stats", outcome.stats)):
                for delta in sent:
                    await deltas[model].send(key=decoded.event.order_id, value=delta)
            outputs = await fanout.outputs(decoded.meta.event_type, decoded.fields, key=record.key,
                                           value=record.value or b"", envelope=decoded.envelope)
            for out in outputs:
                await app.producer.send(out.topic, out.key, out.value, None, None, out.headers)

    def read_model(model: str) -> None:
        key_of, apply = READ_MODELS[model]
        table = tables[model]

        async def apply_deltas(stream: Any) -> None:
            async for delta in stream.group_by(key_of, name=model):
                key = key_of(delta)
                view = apply(table.get(key), delta)
                if view is not None:
                    table[key] = view

        app.agent(deltas[model], name=f"naive-{model}")(apply_deltas)

    for model in READ_MODELS:
        read_model(model)
    del naive
    register_health(app)
    return app


def create_app_without_fanout(settings: Settings) -> StreamsApp:
    """The naive agents doing only decode and the four read models (issue 4's workload)."""
    return create_app(settings, fan_out=False)
