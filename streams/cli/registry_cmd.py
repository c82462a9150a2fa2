"""``streams registry``: the embedded schema registry (Confluent REST API, stored in Kafka)."""

from __future__ import annotations

import typer

from streams.registry import serve
from streams.settings import Settings

__all__ = ["registry"]


def registry(
    host: str | None = typer.Option(None, help="bind address (default: host of STREAMS_SCHEMA_REGISTRY_URL)"),
    port: int | None = typer.Option(None, help="port (default: port of STREAMS_SCHEMA_REGISTRY_URL)"),
) -> None:
    """Serve the schema registry until Ctrl-C; ids and versions live in the `_schemas` topic."""
    settings = Settings()
    serve(settings, host, port, on_ready=lambda url: typer.echo(
        f"registry: serving {url} (storage: topic _schemas on {settings.bootstrap_servers})", err=True))
