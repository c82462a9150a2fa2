"""``streams schemas register|check``: the .avsc files against a Confluent-compatible registry.

Subjects follow TopicRecordNameStrategy: ``<topic>-<record full name>``.
``check`` is meant for a user's CI: it exits 1 when any schema would break the
subject's compatibility level, naming each incompatibility.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import httpx
import typer
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError
from rich.console import Console

from streams.avro import AvroSchema, topic_record_subject
from streams.errors import ConfigError, TransientError
from streams.settings import Settings

__all__ = ["schemas_app"]

schemas_app = typer.Typer(help="Register or check the .avsc files against the schema registry.",
                          no_args_is_help=True)


def _files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        raise ConfigError(f"schema directory {directory} does not exist", hint="pass --dir")
    history = sorted((directory / "history").glob("*.avsc")) if (directory / "history").is_dir() else []
    return [*history, *sorted(directory.glob("*.avsc"))]


_DIR = typer.Option(None, "--dir", help="default: STREAMS_SCHEMAS_DIR or ./schemas")
_TOPIC = typer.Option("orders", help="topic whose subjects the schemas go under")


def _default_dir(settings: Settings) -> Path:
    return settings.schemas_dir or Path("schemas")


@schemas_app.command("register")
def register(directory: Path | None = _DIR, topic: str = _TOPIC) -> None:
    """Register every schema (history/ first, oldest first), printing subject, version and id."""
    settings = Settings()
    topic = f"{settings.topic_prefix}{topic}"
    console = Console()
    with SchemaRegistryClient({"url": settings.schema_registry_url}) as client:
        for path in _files(directory or _default_dir(settings)):
            schema = AvroSchema.from_file(path)
            subject = topic_record_subject(topic, schema.full_name)
            try:
                schema_id = client.register_schema(subject, Schema(schema.text, "AVRO"))
                version = client.lookup_schema(subject, Schema(schema.text, "AVRO")).version
            except SchemaRegistryError as exc:
                raise ConfigError(f"{path.name}: the registry refused it for {subject}: {exc.error_message}") from exc
            except Exception as exc:
                raise TransientError(f"cannot reach the registry at {settings.schema_registry_url}: {exc}",
                                     hint="start it with `streams dev` or set STREAMS_SCHEMA_REGISTRY_URL") from exc
            console.print(f"registered {subject} version {version} id {schema_id} ({path})", soft_wrap=True)


@schemas_app.command("check")
def check(directory: Path | None = _DIR, topic: str = _TOPIC) -> None:
    """Check every current .avsc against its subject's compatibility level; exit 1 on any break."""
    settings = Settings()
    topic = f"{settings.topic_prefix}{topic}"
    console = Console()
    broken = 0
    base = settings.schema_registry_url.rstrip("/")
    for path in sorted((directory or _default_dir(settings)).glob("*.avsc")):
        schema = AvroSchema.from_file(path)
        subject = topic_record_subject(topic, schema.full_name)
        try:
            response = httpx.post(f"{base}/compatibility/subjects/{quote(subject, safe='')}/versions/latest",
                                  params={"verbose": "true"}, json={"schema": schema.text}, timeout=30)
        except httpx.HTTPError as exc:
            raise TransientError(f"cannot reach the registry at {base}: {exc}",
                                 hint="start it with `streams dev` or set STREAMS_SCHEMA_REGISTRY_URL") from exc
        body = response.json()
        if response.status_code == 404 and body.get("error_code") in (40401, 40402):
            console.print(f"[green]new[/]        {subject} (not registered yet)")
        elif response.status_code != 200:
            raise ConfigError(f"{path.name}: {body.get('message', response.text)}")
        elif body.get("is_compatible"):
            console.print(f"[green]compatible[/] {subject}")
        else:
            broken += 1
            console.print(f"[red]BREAKING[/]   {subject} ({path})", soft_wrap=True)
            for message in body.get("messages") or []:
                console.print(f"    {message}", soft_wrap=True)
    if broken:
        console.print(f"{broken} schema(s) break compatibility")
        raise typer.Exit(1)
