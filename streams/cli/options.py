"""Options more than one command takes."""

from __future__ import annotations

import typer

from streams.connection import KafkaConnection
from streams.settings import Settings

__all__ = ["DRY_RUN", "EXECUTE", "executing", "reached"]

DRY_RUN = typer.Option(False, "--dry-run", help="show the plan and change nothing (the default)")
EXECUTE = typer.Option(False, "--execute", help="do it")


def executing(dry_run: bool, execute: bool) -> bool:
    """True to act, False for a dry run (the default); both at once is a usage error, as Kafka's tools make it."""
    if dry_run and execute:
        raise typer.BadParameter("give one of them, not both (without either: a dry run)",
                                 param_hint="'--dry-run' / '--execute'")
    return execute


def reached(settings: Settings) -> KafkaConnection:
    """The cluster's connection once it answered: a refused password or certificate, or no broker, is then one
    line naming the setting (``KafkaConnection.reachable``), not a client retrying in silence."""
    kafka = settings.kafka
    kafka.reachable()
    return kafka
