"""``streams dev``: the whole stack on this machine, in the foreground."""

from __future__ import annotations

import signal

import typer
from rich.console import Console

from streams.devstack.stack import DevStack
from streams.settings import Settings

__all__ = ["dev"]


def dev(
    registry: bool = typer.Option(True, help="also start the embedded schema registry"),
    worker: bool = typer.Option(True, help="also start one worker"),
    brokers: int = typer.Option(1, min=1, help="Kafka nodes (KRaft, each broker and controller): 3 starts a "
                                "cluster with replication factor 3, for trying failover"),
) -> None:
    """Start Kafka (KRaft), the schema registry and a worker; Ctrl-C stops all of them."""
    # Ctrl-C must stop the stack even where SIGINT came in ignored (a shell's background job, some CI
    # runners): Python then installs no KeyboardInterrupt handler of its own.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    console = Console(stderr=True, highlight=False)
    settings = Settings()
    stack = DevStack(settings, say=lambda line: console.print(f"[bold cyan]dev[/] {line}"),
                     with_registry=registry, with_worker=worker, brokers=brokers)
    code = 1
    try:
        stack.start()
        if worker:
            base = f"http://{settings.web_host}:{settings.web_port}"
            console.print(f"[bold cyan]dev[/] open {base}/health, {base}/dashboard, {base}/orders/<id>, "
                          f"{base}/metrics")
        code = stack.wait()
    except KeyboardInterrupt:
        code = 0
    finally:
        stack.stop()
    raise typer.Exit(code)
