"""``streams demo``: tell the domain's stories to a running stack and show what its read models made of them.

The stories come from the app factory's module (``<module>:create_demo`` next
to ``create_app``), produced through its ``create_ingest``.  Run it against
``make run`` (``streams dev``) or the docker compose stack.  Stories the worker
finishes itself are watched, with a progress line, until they end or the
scenario's bound passes (``streams.demo.DemoRunner.watch``).
"""

from __future__ import annotations

import secrets
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from streams import headers as h
from streams.cli.options import reached
from streams.demo import DemoRunner, Outcome, Scenario, WatchOutcome, WatchReport
from streams.errors import StreamsError
from streams.loader import beside_factory
from streams.recordpath.records import header
from streams.settings import Settings

__all__ = ["demo"]


def demo(
    orders: int = typer.Option(12, "--orders", min=1, max=10_000, help="how many orders to tell the story of"),
    seed: int | None = typer.Option(None, "--seed", help="same seed, same stories and ids (default: new ones)"),
    poison: bool = typer.Option(True, "--poison/--no-poison", help="also send one record that is not Avro"),
    worker_url: str | None = typer.Option(None, "--worker", help="a worker's URL (default from STREAMS_WEB_*)"),
    wait: float = typer.Option(10.0, "--wait", min=0.1, max=30, help="seconds a read may wait for its write"),
) -> None:
    """Produce orders through their lifecycles (and one poison record), then read the read models back."""
    settings = Settings()
    scenario: Scenario = beside_factory(settings, "create_demo")(
        settings, orders=orders, seed=seed if seed is not None else _fresh_seed())
    url = worker_url or f"http://{settings.web_host}:{settings.web_port}"
    console = Console(stderr=True, soft_wrap=True)
    ingest = beside_factory(settings, "create_ingest")(settings, "demo")
    runner = DemoRunner(ingest, url, reached(settings), wait_s=wait)
    report = WatchReport([], [])
    try:
        runner.wait_ready()
        for note in scenario.notes:
            console.print(note)
        held = sum(step.gate is not None for step in scenario.steps)
        with Progress(TextColumn("producing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=console) as progress:
            task = progress.add_task("produce", total=len(scenario.steps) - held)
            positions = runner.produce(scenario, advance=lambda: progress.advance(task))
        console.print(f"produced {len(scenario.steps) - held} events of {orders} orders to {ingest.topic}"
                      + (f" ({held} more held back until what they wait for happened)" if held else ""))
        if scenario.watches:
            console.print(f"watching {len(scenario.watches)} stories the worker finishes itself "
                          f"(at most {scenario.watch_s:.0f}s)")
            with Progress(TextColumn("waiting"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                          TextColumn("{task.description}"), console=console) as progress:
                task = progress.add_task("", total=len(scenario.watches))
                report = runner.watch(scenario, positions, progress=lambda ended, total, summary: progress.update(
                    task, completed=ended, description=f"still open: {summary}" if summary else ""))
        poisoned = runner.poison(scenario.poison_key) if poison else None
        if poisoned is not None:
            console.print(f"sent one record that is not Avro (key {scenario.poison_key}) to "
                          f"{poisoned.topic} {poisoned.token}")
        outcomes = [runner.check(check, positions) for check in scenario.checks]
        dead = runner.dead_letter(poisoned) if poisoned is not None else None
    finally:
        runner.close()
        ingest.close()
    if report.outcomes:
        Console().print(_watch_table(scenario.watch_title, report.outcomes))
    Console().print(_table(outcomes))
    checks = len(outcomes) + len(report.outcomes)
    problems = sum(not o.ok for o in outcomes) + sum(not o.ok for o in report.outcomes)
    for line in report.stopped:
        console.print(f"[red]{line}[/]")
    if poisoned is not None:
        checks += 1
        if dead is None:
            problems += 1
            console.print(f"[red]the poison record at {poisoned.topic} {poisoned.token} is not in its "
                          "dead-letter topic[/]")
        else:
            reason = (header(dead.headers, h.DLQ_ERROR_CLASS) or b"?").decode()
            console.print(f"dead letter: {dead.topic} {dead.partition}:{dead.offset}, error class {reason} "
                          f"(see `streams dlq list`, `streams dlq show --key {scenario.poison_key}`)")
    console.print("open: " + "  ".join(f"{url}{link}" for link in scenario.links))
    if problems:
        raise _DemoFailedError(f"{problems} of {checks} checks failed",
                               hint=f"is the worker at {url} consuming {ingest.topic}? see its log")
    console.print(f"[green]all {checks} checks passed[/]")


class _DemoFailedError(StreamsError):
    dead_letter = False
    code = "demo_failed"


def _table(outcomes: list[Outcome]) -> Table:
    table = Table(title="what the read models say")
    for column in ("check", "expected", "served", ""):
        table.add_column(column)
    for outcome in outcomes:
        table.add_row(outcome.check.label, _fields(outcome.check.expect),
                      outcome.error or _fields(outcome.got), "[green]ok[/]" if outcome.ok else "[red]FAILED[/]")
    return table


def _watch_table(title: str, outcomes: list[WatchOutcome]) -> Table:
    table = Table(title=title)
    for column in ("story", "expected", "seen", "took", ""):
        table.add_column(column)
    for outcome in outcomes:
        watch = outcome.watch
        expected = "; ".join([_fields(watch.expect), *(f"{r.label}: {_fields(r.expect)}" for r in watch.then)])
        seen = "; ".join([_fields(outcome.got) or "(nothing)",
                          *(f"{r.label}: {_fields(got)}" for r, got in zip(watch.then, outcome.reads, strict=False))])
        if outcome.error:
            seen = f"{outcome.error}; {seen}"
        took = f"{outcome.seconds:.1f}s" if outcome.seconds is not None else "-"
        table.add_row(watch.label, expected, seen, took, "[green]ok[/]" if outcome.ok else "[red]FAILED[/]")
    return table


def _fields(values: Any) -> str:
    return ", ".join(f"{k}={v}" for k, v in values.items())


def _fresh_seed() -> int:
    return secrets.randbelow(2**31)

