"""The ``streams`` command: one typer app, one module per command group.

Every command turns a ``StreamsError`` into one line on stderr (what went
wrong and what to do) and exit code 1; typer's own usage errors exit 2, and so
does a malformed ``STREAMS_*`` variable (one line: the variable, what is wrong,
a good value), whichever command read the settings.  No line echoes a secret:
a URL's ``user:password@`` is dropped, a token shows as ``<hidden>``.
"""

from __future__ import annotations

import sys

import pydantic
import typer

from streams.cli.demo_cmd import demo
from streams.cli.dev_cmd import dev
from streams.cli.dlq_cmd import dlq_app
from streams.cli.lag_cmd import lag
from streams.cli.produce_cmd import produce
from streams.cli.registry_cmd import registry
from streams.cli.replay_cmd import replay
from streams.cli.schemas_cmd import schemas_app
from streams.cli.worker_cmd import worker
from streams.errors import StreamsError
from streams.settings import Settings, explain_invalid, variables, without_credentials

__all__ = ["app", "main"]

SETTINGS = "Settings come from the environment, the same for every command:\n\n" + "\n\n".join(
    f"{variable}: {what}" for variable, what in variables())

app = typer.Typer(
    name="streams",
    help="Kafka stream processing: workers, a local dev stack, a schema registry and operator tools.",
    epilog="Every command reads its settings (STREAMS_*) from the environment: `streams worker --help` lists them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("dev")(dev)
app.command("worker", epilog=SETTINGS)(worker)
app.command("registry")(registry)
app.command("produce")(produce)
app.command("lag")(lag)
app.command("demo")(demo)
app.command("replay")(replay)
app.add_typer(schemas_app, name="schemas")
app.add_typer(dlq_app, name="dlq")


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
