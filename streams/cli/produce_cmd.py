"""``streams produce``: one event from --data, or many from an NDJSON --file, with progress and a summary.

The domain's ingest (validation, Avro, envelope) is found through the app
factory's module: ``<module>:create_ingest`` next to ``create_app``.
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

from streams.errors import ConfigError, StreamsError, ValidationError
from streams.loader import load_factory
from streams.settings import Settings

__all__ = ["produce"]


def _ingest(settings: Settings) -> Any:
    module = settings.app_factory.partition(":")[0]
    return load_factory(f"{module}:create_ingest")(settings)


def produce(
    event_type: str | None = typer.Argument(None, help="event type, e.g. OrderPlaced (with --data)"),
    data: str | None = typer.Option(None, "--data", help="the event as JSON"),
    file: Path | None = typer.Option(None, "--file", help="NDJSON: one {\"type\", \"data\", ...} per line"),
) -> None:
    """Validate, Avro-encode and produce events (acks=all); prints each receipt or a summary."""
    if (file is None) == (data is None):
        raise ConfigError("give either EVENT_TYPE --data '<json>' or --file events.ndjson",
                          hint="see `streams produce --help`")
    settings = Settings()
    ingest = _ingest(settings)
    try:
        if data is not None:
            if event_type is None:
                raise ConfigError("EVENT_TYPE is required with --data (e.g. streams produce OrderPlaced --data ...)")
            try:
                payload = json.loads(data)
            except ValueError as exc:
                raise ValidationError(f"--data is not JSON: {exc}") from None
            try:
                receipt = asyncio.run(_one(ingest, {"type": event_type, "data": payload}))
            except ValidationError as exc:  # the one line names every bad field
                raise ValidationError(_describe(exc), hint=exc.hint) from None
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
                prepared = ingest.prepare(json.loads(line))
                futures.append((number, ingest.producer.produce(ingest.topic, prepared.key, prepared.value,
                                                                prepared.envelope.to_headers())))
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
    if isinstance(exc, StreamsError):
        details = "; ".join(f"{d['field']}: {d['message']}" for d in exc.details or [])
        return f"{exc.message}" + (f" ({details})" if details else "")
    return f"not JSON: {exc}"
