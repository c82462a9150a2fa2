"""``streams registry``: the embedded schema registry (Confluent REST API, stored in Kafka)."""

from __future__ import annotations

from typing import Annotated

import typer

from streams.errors import StreamsError
from streams.registry import serve
from streams.settings import Settings, without_credentials

__all__ = ["registry"]


def registry(
    host: Annotated[str | None, typer.Option(help="bind address (default: host of STREAMS_SCHEMA_REGISTRY_URL)")]
    = None,
    port: Annotated[int | None, typer.Option(help="port (default: port of STREAMS_SCHEMA_REGISTRY_URL)")] = None,
) -> None:
    """Serve the schema registry until Ctrl-C; ids and versions live in the `_schemas` topic."""
    settings = Settings()
    try:
        serve(settings, host, port, on_ready=lambda url: typer.echo(
            f"registry: serving {url} (storage: topic _schemas on {settings.bootstrap_servers})", err=True))
    except StreamsError as exc:
        typer.echo(f"streams registry: error: {without_credentials(exc.one_line())}", err=True)
        raise typer.Exit(code=1) from None
    except OSError as exc:  # the port is taken, or the address is not ours
        typer.echo(f"streams registry: error: cannot listen on {host or settings.registry_host_port[0]}:"
                   f"{port or settings.registry_host_port[1]}: {exc.strerror or exc}", err=True)
        raise typer.Exit(code=1) from None
