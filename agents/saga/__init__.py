"""The order saga: one process manager per order drives payment, stock and shipment, or undoes them.

``steps`` is the saga as a pure function (read its docstring for the rules); ``state`` its data; ``inbox`` the
records it reads; ``agent`` the Faust agent around it; ``timers`` the loop that fires deadlines (``deadlines`` its
index); ``views`` the HTTP routes; ``metrics`` what it counts.  ``register_saga`` wires them onto an app.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

from agents.decoding import OrderEventDecoder
from agents.saga.agent import SAGA_AGENT, SagaTables, register_saga_agent
from agents.saga.inbox import INBOX_RULES, SagaInbox
from agents.saga.steps import SagaPolicy, advance
from agents.saga.timers import register_saga_timers
from agents.saga.views import register_saga_views
from agents.settings import OrderSettings
from agents.topics import orders_topic, saga_inbox, topic_name
from streams.app import StreamsApp
from streams.avro import AvroSchema
from streams.freshness import Watermarks
from streams.producer import DurableProducer
from streams.recordpath.agent import RawSchema
from streams.recordpath.processing import ProcessingPolicy

__all__ = ["INBOX_RULES", "SAGA_AGENT", "SagaPolicy", "SagaTables", "advance", "register_saga"]


def register_saga(app: StreamsApp, domain: OrderSettings, *, decoder: OrderEventDecoder,
                  commands: Mapping[str, AvroSchema], processing: ProcessingPolicy, marks: Watermarks) -> SagaTables:
    """The saga agent over the inbox, its timer loop and its routes."""
    settings = app.streams_settings
    inbox_topic = saga_inbox(settings)
    policy = SagaPolicy(step_timeout_s=domain.saga_step_timeout_s, max_attempts=domain.saga_max_attempts,
                        warehouse=domain.sim_warehouse)
    tables = register_saga_agent(app, inbox_topic=inbox_topic, inbox=SagaInbox(decoder), policy=policy,
                                 catalog=decoder.catalog, commands=commands, codec=decoder.codec,
                                 topic=lambda service: topic_name(settings, service), orders=orders_topic(settings),
                                 processing=processing, marks=marks)

    @cache
    def producer() -> DurableProducer:  # made at first use: building the app connects to nothing
        return DurableProducer(settings.kafka, client_id=f"{settings.app_id}-saga", tracing=app.tracing)

    register_saga_timers(app, deadlines=tables.deadlines, index=tables.index, inbox_topic=inbox_topic,
                         tick_s=domain.saga_tick_s, producer=producer)
    register_saga_views(app, tables, app.topic(inbox_topic, schema=RawSchema()), producer=producer)
    return tables
