"""``streams schemas register|check``: the .avsc files against a Confluent-compatible registry.

Subjects follow TopicRecordNameStrategy: ``<topic>-<record full name>``.
Only the current schemas (the ``*.avsc`` files directly in the directory) are
registered and checked.  ``history/`` keeps versions that were in use before,
for tests of schema evolution: registering them after the current ones would
make an old schema its subject's latest version, and registering them into an
empty subject would only recreate a past the registry never had.
``check`` is meant for a user's CI: it exits 1 when any schema would break the
subject's compatibility level, naming each incompatibility; with no schemas to
check it is an error, not a silent pass.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import typer
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError
from rich.console import Console

from streams.avro import AvroSchema, topic_record_subject
from streams.errors import ConfigError, TransientError
from streams.settings import Settings, without_credentials

__all__ = ["schemas_app"]

schemas_app = typer.Typer(help="Register or check the .avsc files against the schema registry.",
                          no_args_is_help=True)


_WHERE = "run it from the project's root, pass --dir <directory of .avsc files> or set STREAMS_SCHEMAS_DIR"


def _files(directory: Path) -> list[Path]:
    """The current schemas (not ``history/``), or a ConfigError saying where none were found and what to do."""
    if not directory.is_dir():
        raise ConfigError(f"no schema directory {directory.resolve()}", hint=_WHERE)
    files = sorted(directory.glob("*.avsc"))
    if not files:
        raise ConfigError(f"no .avsc files in {directory.resolve()}", hint=_WHERE)
    return files


_DIR = typer.Option(None, "--dir", help="default: STREAMS_SCHEMAS_DIR or ./schemas")
_TOPIC = typer.Option("orders", help="topic whose subjects the schemas go under")


def _default_dir(settings: Settings) -> Path:
    return settings.schemas_dir or Path("schemas")


@schemas_app.command("register")
def register(directory: Path | None = _DIR, topic: str = _TOPIC) -> None:
    """Register the current schemas (not history/), printing subject, version and id."""
    settings = Settings()
    topic = f"{settings.topic_prefix}{topic}"
    console = Console()
    with SchemaRegistryClient(settings.registry_client_config) as client:
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
    broken = new = versions = 0
    base = settings.schema_registry_url.rstrip("/")
    directory = directory or _default_dir(settings)
    files = _files(directory)
    http = _http(settings)
    for path in files:
        schema = AvroSchema.from_file(path)
        subject = topic_record_subject(topic, schema.full_name)
        response, body = _post(http, base, f"/compatibility/subjects/{quote(subject, safe='')}/versions/latest",
                               {"schema": schema.text})
        if response.status_code == 404 and body.get("error_code") in (40401, 40402):
            new += 1
            console.print(f"[green]new[/]        {subject} (not registered yet)")
            continue
        if response.status_code != 200:
            raise ConfigError(f"{path.name}: {body.get('message', response.text)}")
        versions += _version_count(http, base, subject)
        if body.get("is_compatible"):
            console.print(f"[green]compatible[/] {subject}")
        else:
            broken += 1
            console.print(f"[red]BREAKING[/]   {subject} ({path})", soft_wrap=True)
            for message in body.get("messages") or []:
                console.print(f"    {message}", soft_wrap=True)
    checked = len(files) - new
    console.print(f"checked {len(files)} schema(s) from {directory.resolve()} against {without_credentials(base)}: "
                  f"{checked} against their subject's {versions} registered version(s) at its "
                  f"compatibility level, {new} new (not registered yet); {broken} break compatibility",
                  soft_wrap=True, highlight=False)
    if broken:
        raise typer.Exit(1)


_UNREACHABLE = "start it with `streams dev` or set STREAMS_SCHEMA_REGISTRY_URL"


def _http(settings: Settings) -> httpx.Client:
    """An HTTP client of the registry: its basic auth and CA, as the registry client gets them."""
    secret = settings.schema_registry_basic_auth_user_info
    user, _, password = secret.get_secret_value().partition(":") if secret is not None else ("", "", "")
    return httpx.Client(auth=(user, password) if secret is not None else None,
                        verify=str(settings.schema_registry_ssl_cafile or "") or True)


def _post(http: httpx.Client, base: str, path: str, body: dict[str, str]) -> tuple[httpx.Response, dict[str, Any]]:
    try:
        response = http.post(f"{base}{path}", params={"verbose": "true"}, json=body, timeout=30)
        return response, _json(response)
    except httpx.HTTPError as exc:
        raise TransientError(f"cannot reach the registry at {base}: {exc}", hint=_UNREACHABLE) from exc


def _version_count(http: httpx.Client, base: str, subject: str) -> int:
    try:
        response = http.get(f"{base}/subjects/{quote(subject, safe='')}/versions", timeout=30)
    except httpx.HTTPError as exc:
        raise TransientError(f"cannot reach the registry at {base}: {exc}", hint=_UNREACHABLE) from exc
    listed = _json(response)
    return len(listed) if response.status_code == 200 and isinstance(listed, list) else 0


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        raise TransientError(f"the registry answered {response.status_code} with a body that is not JSON: "
                             f"{response.text[:200]!r}", hint="is STREAMS_SCHEMA_REGISTRY_URL a schema registry?"
                             ) from None
