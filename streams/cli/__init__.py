"""The ``streams`` command: one typer app, one module per command group.

Every command turns a ``StreamsError`` into one line on stderr (what went
wrong and what to do) and exit code 1; typer's own usage errors exit 2, and so
does a malformed ``STREAMS_*`` variable (one line: the variable, what is wrong,
a good value), whichever command read the settings.  No line echoes a secret:
a URL's ``user:password@`` is dropped, a token shows as ``<hidden>``.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import pydantic
import typer
from typer.core import TyperCommand

from streams.cli.demo_cmd import demo
from streams.cli.dev_cmd import dev
from streams.cli.dlq_cmd import dlq_app
from streams.cli.lag_cmd import lag
from streams.cli.produce_cmd import produce
from streams.cli.registry_cmd import registry
from streams.cli.replay_cmd import replay
from streams.cli.schemas_cmd import schemas_app
from streams.cli.tables_cmd import tables_app
from streams.cli.worker_cmd import worker
from streams.errors import StreamsError
from streams.loader import load_callable
from streams.settings import Settings, explain_invalid, variables, without_credentials

__all__ = ["app", "main", "settings_help"]

DOMAIN_SETTINGS = "domain_settings"
"""What the app factory's module may offer beside the factory: a function returning the settings class of the
domain (read from the environment like the platform's), whose variables ``streams worker --help`` lists too."""


def settings_help() -> str:
    """The settings ``streams worker --help`` lists: the platform's, then those of the app factory's domain (its
    module's ``domain_settings()``, when it has one and imports: help never fails for it)."""
    text = "Settings come from the environment, the same for every command:\n\n" + "\n\n".join(
        f"{variable}: {what}" for variable, what in variables())
    factory = os.environ.get("STREAMS_APP_FACTORY") or str(Settings.model_fields["app_factory"].default)
    module = factory.partition(":")[0]
    try:
        domain = load_callable(f"{module}:{DOMAIN_SETTINGS}")()
        rows = variables(domain)
    except (StreamsError, ImportError, TypeError, AttributeError):
        return text
    return text + f"\n\nSettings of the app ({module}):\n\n" + "\n\n".join(
        f"{variable}: {what}" for variable, what in rows)


class _WithSettings(TyperCommand):
    """A command whose help ends with every setting, the domain's included, found when the help is asked for (not
    when any ``streams`` command starts: that would import the domain every time)."""

    def format_help(self, ctx: Any, formatter: Any) -> None:  # typer's own copy of click's types
        self.epilog = settings_help()
        super().format_help(ctx, formatter)


app = typer.Typer(
    name="streams",
    help="Kafka stream processing: workers, a local dev stack, a schema registry and operator tools.",
    epilog="Every command reads its settings (STREAMS_*) from the environment: `streams worker --help` lists them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("dev")(dev)
app.command("worker", cls=_WithSettings)(worker)
app.command("registry")(registry)
app.command("produce")(produce)
app.command("lag")(lag)
app.command("demo")(demo)
app.command("replay")(replay)
app.add_typer(schemas_app, name="schemas")
app.add_typer(dlq_app, name="dlq")
app.add_typer(tables_app, name="tables")


def main() -> None:
    try:
        app()
    except StreamsError as exc:
        print(f"streams: error: {without_credentials(exc.one_line())}", file=sys.stderr)
        sys.exit(1)
    except pydantic.ValidationError as exc:
        if exc.title != Settings.__name__:  # not the environment's fault: a bug, with its traceback
            raise
        print(f"streams: error: {explain_invalid(exc)}", file=sys.stderr)
        sys.exit(2)
