"""``streams produce``: one event from --data, or many from an NDJSON --file, with progress and a summary.

The domain's ingest (validation, Avro, envelope) is found through the app
factory's module: ``<module>:create_ingest(settings, source)`` next to
``create_app``; ``source`` ``cli`` heads the events ``<STREAMS_PRODUCER_NAME>/cli``.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from streams.cli.options import reached
from streams.errors import ConfigError, StreamsError, ValidationError
from streams.loader import beside_factory
from streams.settings import Settings
from streams.tracing import continuing

__all__ = ["produce"]


def produce(
    event_type: str | None = typer.Argument(None, help="event type, e.g. OrderPlaced (with --data)"),
    data: str | None = typer.Option(None, "--data", help="the event as JSON"),
    file: Path | None = typer.Option(None, "--file", help="NDJSON: one {\"type\", \"data\", ...} per line"),
    traceparent: str | None = typer.Option(
        None, "--traceparent",
        help="W3C trace context to continue (default: TRACEPARENT); with STREAMS_OTLP_ENDPOINT set, each event's "
             "send span joins that trace, else each starts its own"),
) -> None:
    """Validate, Avro-encode and produce events (acks=all); prints each receipt or a summary."""
    if (file is None) == (data is None):
        raise ConfigError("give either EVENT_TYPE --data '<json>' or --file events.ndjson",
                          hint="see `streams produce --help`")
    settings = Settings()
    reached(settings)  # a refused password or certificate: one line, at once, not a send timing out
    ingest = beside_factory(settings, "create_ingest")(settings, "cli")
    with continuing(traceparent or settings.traceparent):
        _produce(ingest, event_type, data, file)


def _produce(ingest: Any, event_type: str | None, data: str | None, file: Path | None) -> None:
    try:
        if data is not None:
            if event_type is None:
                raise ConfigError("EVENT_TYPE is required with --data (e.g. streams produce OrderPlaced --data ...)")
            try:
                payload = json.loads(data)
            except ValueError as exc:
                raise ValidationError(f"--data is not JSON: {exc}") from None
            receipt = asyncio.run(_one(ingest, {"type": event_type, "data": payload}))
            typer.echo(json.dumps(receipt))
            return
        assert file is not None
        _many(ingest, file)
    finally:
        ingest.close()


async def _one(ingest: Any, body: dict[str, Any]) -> dict[str, Any]:
    prepared = ingest.prepare(body)
    return dict(prepared.receipt(await ingest.send(prepared)))


def _many(ingest: Any, file: Path) -> None:
    if not file.is_file():
        raise ConfigError(f"no such file: {file}")
    lines = file.read_text().splitlines()
    console = Console(stderr=True)
    sent, failed, errors = 0, 0, []
    futures = []
    with Progress(TextColumn("producing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=False) as progress:
        task = progress.add_task("produce", total=len(lines))
        for number, line in enumerate(lines, 1):
            if not line.strip():
                progress.advance(task)
                continue
            try:
                futures.append((number, ingest.enqueue(ingest.prepare(json.loads(line)))))
            except (ValueError, StreamsError) as exc:
                failed += 1
                errors.append(f"line {number}: {_describe(exc)}")
            progress.advance(task)
        ingest.producer.flush()
    for number, future in futures:
        try:
            future.result(timeout=30)
            sent += 1
        except StreamsError as exc:
            failed += 1
            errors.append(f"line {number}: {exc.message}")
    for error in errors[:20]:
        console.print(f"[red]{error}[/]")
    if len(errors) > 20:
        console.print(f"... and {len(errors) - 20} more")
    console.print(f"produced {sent}, failed {failed}, of {len(lines)} lines in {file}")
    if failed:
        sys.exit(1)


def _describe(exc: Exception) -> str:
    """A validation error's message names its fields (``details`` carry them for HTTP clients)."""
    return exc.message if isinstance(exc, StreamsError) else f"not JSON: {exc}"
