"""``streams worker``: one Faust worker running the agents of the configured app factory."""

from __future__ import annotations

import faust
import typer

from streams import heap
from streams.loader import load_factory
from streams.recordpath.transactions import EXACTLY_ONCE, probe, transactional_id
from streams.replication import Replication, cluster_replication
from streams.settings import Settings, without_credentials
from streams.tracing import worker_logging_config

__all__ = ["worker"]


def worker(
    web_port: int | None = typer.Option(None, min=0, max=65535, help="HTTP port (default STREAMS_WEB_PORT)"),
    data_dir: str | None = typer.Option(None, help="table stores (default STREAMS_DATA_DIR)"),
) -> None:
    """Start a worker: consume, apply read models, serve HTTP. Ctrl-C stops it cleanly."""
    overrides: dict[str, object] = {}
    if web_port is not None:
        overrides["web_port"] = web_port
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    settings = Settings(**overrides)  # type: ignore[arg-type]
    replication = _check_broker(settings)  # before the app: building it reads Kafka (rebuild plans)
    # Pinned: the app creates its topics with what this line says, even if brokers join or leave meanwhile.
    settings = settings.model_copy(update={"replication_factor": replication.factor,
                                           "min_insync_replicas": replication.min_insync})
    app = load_factory(settings.app_factory)(settings)
    if settings.processing_guarantee == EXACTLY_ONCE:  # a cluster that cannot run transactions: one line, now
        probe(settings.kafka, transactional_id(app.conf.id, app.conf.consumer_group_instance_id),
              settings.transaction_timeout_s)
    tracing = getattr(app, "tracing", None)
    traced = tracing is not None and tracing.enabled
    typer.echo(f"worker {settings.app_id}: broker {without_credentials(settings.broker)} "
               f"({settings.kafka.describe()}), "
               f"http://{settings.web_host}:{settings.web_port}/health, {replication.describe()}, "
               + _membership(app) + f", {settings.processing_guarantee}"
               + (f", {tracing.describe()}" if tracing is not None else ""))
    runner = faust.Worker(app, loglevel=settings.log_level, quiet=True,
                          logging_config=worker_logging_config() if traced else None)
    # Faust's terminal spinner sets the root logger to DEBUG so that every record moves it; that makes
    # every library format debug records it then drops (a third of the CPU under load). No spinner.
    runner.spinner = None
    heap.settle()  # the app as built lives as long as the worker: full collections while it starts skip it
    runner.execute_from_commandline()


def _membership(app: faust.App) -> str:
    """What the startup line says of the group membership: the static instance id, or that there is none."""
    instance = app.conf.consumer_group_instance_id
    return f"instance id {instance} (static membership)" if instance else "no static membership"


def _check_broker(settings: Settings) -> Replication:
    """The replication of the app's topics on the cluster reached (``ReplicationError``: the settings ask too much;
    ``ConfigError``: the cluster refuses the connection's security, said in one line naming the setting)."""
    admin = settings.kafka.reachable(timeout=10)
    return cluster_replication(admin, factor=settings.replication_factor, min_insync=settings.min_insync_replicas)
