"""``create_app(settings)``: the order domain wired onto a Faust app.

This is the app factory ``streams worker`` loads (STREAMS_APP_FACTORY).  It
declares topics and tables, registers the agents and the HTTP routes, and
returns the app; nothing runs until a worker starts it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from agents.consumers.order_agent import register_order_agent
from agents.consumers.readmodel_agents import register_readmodel_agents
from agents.dashboard import SAGA_CARD
from agents.decoding import OrderEventDecoder
from agents.demo import create_demo
from agents.events import default_schemas_dir
from agents.fanout import RULES, SAGA_INBOX
from agents.ingest import OrderIngest
from agents.openapi import openapi_document
from agents.saga import INBOX_RULES, register_saga
from agents.services.agents import register_services
from agents.settings import OrderSettings, order_settings
from agents.tables import declare_tables, read_models
from agents.topics import (
    CUSTOMER_DELTAS,
    SKU_DELTAS,
    STATS_DELTAS,
    internal,
    orders_topic,
    saga_inbox,
    topic_name,
    topic_specs,
)
from agents.views import register_views
from streams.app import StreamsApp, build_app
from streams.avro import AvroSchema, load_schemas
from streams.envelope import producer_for
from streams.freshness import Watermarks, seed_watermarks
from streams.producer import DurableProducer
from streams.recordpath.processing import ProcessingPolicy
from streams.replay import Generational
from streams.routing import Fanout, Rule
from streams.settings import Settings
from streams.tracing import CLI_SERVICE, start_tracing
from streams.web import (
    install_error_middleware,
    register_health,
    register_lag,
    register_metrics_route,
    register_openapi,
)
from streams.web.cards import register_card

__all__ = ["create_app", "create_demo", "create_fanout", "create_ingest", "domain_settings", "read_models"]


def create_app(settings: Settings, *, rules: Sequence[Rule] = RULES,
               domain: OrderSettings | None = None) -> StreamsApp:
    """``rules``: the fan-out rules (``agents.fanout.RULES``; the benchmark also runs without any); ``domain``: the
    saga's and the simulated services' settings (default: from the environment)."""
    domain = domain or order_settings()
    app = build_app(settings)
    app.declare_topics(topic_specs(settings))
    partitions = settings.topic_partitions
    source = app.topic(orders_topic(settings), key_type=bytes, value_type=bytes, key_serializer="raw",
                       value_serializer="raw", partitions=partitions)
    deltas = {
        name: app.topic(internal(settings, topic), key_type=str, key_serializer="raw",
                        value_serializer="json", partitions=partitions)
        for name, topic in (("customers", CUSTOMER_DELTAS), ("inventory", SKU_DELTAS),
                            ("stats", STATS_DELTAS))
    }
    tables = declare_tables(app)
    marks = Watermarks()
    decoder = OrderEventDecoder(settings)
    processing = ProcessingPolicy.from_settings(settings)
    commands = load_commands(settings)
    register_order_agent(app, source=orders_topic(settings), tables=tables, deltas=deltas, decoder=decoder,
                         fanout=create_fanout(settings, decoder, [*rules, *INBOX_RULES] if domain.saga else rules,
                                              commands=commands),
                         marks=marks, policy=processing)
    if domain.saga:
        register_saga(app, domain, decoder=decoder, commands=commands, processing=processing, marks=marks)
        register_card(app, SAGA_CARD)
    if domain.simulated_services:
        register_services(app, settings, domain, decoder, commands)
    inboxes = register_readmodel_agents(app, deltas=deltas, tables=tables, marks=marks)
    seed_watermarks(app, marks, *(model_seed(model) for model in tables.all()))
    install_error_middleware(app)
    register_health(app)
    register_metrics_route(app, app.metrics)
    register_lag(app)
    def make_ingest() -> OrderIngest:
        producer = DurableProducer(settings.kafka, client_id=f"{settings.app_id}-http",
                                   tracing=app.tracing)
        return OrderIngest(decoder.catalog, decoder.codec, producer, producer_for(settings.producer_name, "http"),
                           orders_topic(settings))

    register_views(app, tables, marks, {"orders": source, **deltas}, inboxes, make_ingest=make_ingest)
    register_openapi(app, openapi_document())
    return app


def domain_settings() -> type[OrderSettings]:
    """The domain's settings class, for ``streams worker --help`` (``streams.cli``), which lists its variables
    after the platform's without the platform importing the domain."""
    return OrderSettings


def model_seed(model: Generational) -> Callable[[str, int, int], None]:
    """At assignment, a committed offset past a rebuild's switch offset switches that partition."""
    def seed(topic: str, partition: int, committed: int) -> None:
        if topic == model.topic:
            model.seed(partition, committed)
    return seed


def create_fanout(settings: Settings, decoder: OrderEventDecoder, rules: Sequence[Rule] = RULES, *,
                  commands: Mapping[str, AvroSchema] | None = None) -> Fanout:
    """The fan-out rules (those of ``agents.fanout``), checked against the event and command schemas (``commands``:
    those already loaded, or read from ``schemas/commands``)."""
    return Fanout(rules, events=decoder.catalog.schemas,
                  commands=load_commands(settings) if commands is None else commands, codec=decoder.codec,
                  topic=lambda target: saga_inbox(settings) if target == SAGA_INBOX else topic_name(settings, target),
                  producer=settings.producer_name)


def load_commands(settings: Settings) -> dict[str, AvroSchema]:
    """The command schemas (``schemas/commands``), by short name."""
    return load_schemas((settings.schemas_dir or default_schemas_dir()) / "commands")


def create_ingest(settings: Settings, source: str) -> OrderIngest:
    """What ``streams produce`` and ``streams demo`` use: validation, Avro via the registry, a durable producer.

    ``source`` (one of ``streams.envelope.SOURCES``) is the command sending: its events' ``producer`` header
    is ``<STREAMS_PRODUCER_NAME>/<source>``, so a worker counts them by source (``streams_ingested_total``).
    """
    decoder = OrderEventDecoder(settings)
    producer = DurableProducer(settings.kafka, client_id=f"{settings.app_id}-{source}",
                               tracing=start_tracing(settings, service=CLI_SERVICE))
    return OrderIngest(decoder.catalog, decoder.codec, producer, producer_for(settings.producer_name, source),
                       orders_topic(settings))
