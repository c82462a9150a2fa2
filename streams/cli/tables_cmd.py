"""``streams tables``: the app's tables (read models, sagas, parked keys...) as their changelogs say them.

``list`` names the tables of STREAMS_APP_ID; ``show TABLE`` prints its rows, filtered by ``--where field=value``
(every one must hold), as a table of their plain fields or as JSON lines.  Read from Kafka (``streams.tables``):
no worker needs to be up, and every partition is covered.
"""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from streams.cli.options import reached
from streams.errors import ConfigError, NotFoundError
from streams.settings import Settings
from streams.tables import changelog_topic, table_name, table_rows

__all__ = ["tables_app"]

tables_app = typer.Typer(help="The app's tables, read from their changelogs (no worker needed).",
                         no_args_is_help=True)

_MAX_CELL = 60


@tables_app.command("list")
def list_tables() -> None:
    """The tables of STREAMS_APP_ID (one per changelog topic)."""
    settings = Settings()
    kafka = reached(settings)
    names = sorted(filter(None, (table_name(settings.app_id, topic)
                                 for topic in kafka.admin().list_topics(timeout=15).topics)))
    typer.echo("\n".join(names) if names else f"no tables of app {settings.app_id} (is STREAMS_APP_ID right?)")


@tables_app.command("show")
def show(
    table: str = typer.Argument(..., help="the table's name, as `streams tables list` gives it"),
    where: list[str] = typer.Option([], "--where", help="field=value: rows whose field has that value "
                                    "(repeat: all must hold)"),
    limit: int = typer.Option(50, "--limit", min=1, help="show at most this many rows"),
    as_json: bool = typer.Option(False, "--json", help="one JSON object per line: key and value"),
) -> None:
    """The rows of TABLE (its latest value per key), e.g. `streams tables show sagas --where status=stuck`."""
    conditions = [_condition(text) for text in where]
    settings = Settings()
    kafka = reached(settings)
    topic = changelog_topic(settings.app_id, table)
    try:
        rows = table_rows(kafka, topic)
    except NotFoundError:
        raise NotFoundError(f"no table {table!r} in app {settings.app_id} (no topic {topic})",
                            hint="`streams tables list` names them") from None
    picked = [(key, value) for key, value in sorted(rows.items(), key=lambda kv: str(kv[0]))
              if all(_field(value, field) == wanted for field, wanted in conditions)]
    shown = picked[:limit]
    if as_json:
        for key, value in shown:
            typer.echo(json.dumps({"key": key, "value": value}, default=str))
    else:
        _print(table, shown)
    more = f" (first {limit} shown: --limit)" if len(picked) > limit else ""
    typer.echo(f"{len(picked)} of {len(rows)} rows of {table}{more}", err=True)


def _condition(text: str) -> tuple[str, str]:
    field, sep, value = text.partition("=")
    if not sep or not field:
        raise ConfigError(f"--where {text!r} is not field=value", hint="e.g. --where status=stuck")
    return field, value


def _field(value: Any, field: str) -> str | None:
    if not isinstance(value, dict) or field not in value:
        return None
    found = value[field]
    return found if isinstance(found, str) else json.dumps(found)


def _print(table: str, rows: list[tuple[Any, Any]]) -> None:
    """Key and the plain (not list, not object) fields of the rows, each cell cut to a line."""
    fields: list[str] = []
    for _, value in rows:
        if isinstance(value, dict):
            fields += [f for f, v in value.items() if not isinstance(v, dict | list) and f not in fields]
    out = Table("key", *fields, title=table) if fields else Table("key", "value", title=table)
    for key, value in rows:
        cells = [value.get(f) for f in fields] if fields and isinstance(value, dict) else [value]
        out.add_row(str(key), *(_cell(cell) for cell in cells))
    Console().print(out)


def _cell(value: Any) -> str:
    text = "" if value is None else value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= _MAX_CELL else text[:_MAX_CELL - 1] + "…"
