"""``streams lag``: consumer lag per group and partition, in messages and seconds, with Burrow's status.

Statuses are judged over a window of samples, so a one-off call samples
``--samples`` times ``--interval`` apart; ``--watch`` keeps sampling and
redraws the table in place until Ctrl-C; ``--json`` prints the last sample.
"""

from __future__ import annotations

import json
import time

import typer
from confluent_kafka import KafkaException
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from streams.errors import ConfigError, NotFoundError, TransientError
from streams.lag import Evaluator, GroupLag, LagSampler, Status
from streams.settings import Settings

__all__ = ["lag"]

_COLOURS = {Status.OK: "green", Status.WARNING: "yellow", Status.REWIND: "blue", Status.STALLED: "dark_orange",
            Status.STOPPED: "red"}


def lag(
    group: list[str] | None = typer.Option(None, "--group", "-g", help="a consumer group (repeatable)"),
    all_groups: bool = typer.Option(False, "--all", help="every consumer group on the cluster"),
    watch: bool = typer.Option(False, "--watch", "-w", help="keep sampling, redraw in place (Ctrl-C stops)"),
    interval: float = typer.Option(1.0, "--interval", min=0.1, help="seconds between samples"),
    samples: int = typer.Option(3, "--samples", min=1, help="samples a one-off call judges the status on"),
    as_json: bool = typer.Option(False, "--json", help="the last sample as JSON"),
) -> None:
    """Lag of the app's consumer group (STREAMS_APP_ID) and of any --group, per partition."""
    settings = Settings()
    sampler = LagSampler(settings.bootstrap_servers)
    evaluator = Evaluator(size=max(samples, 2) if not watch else settings.lag_window)
    try:
        names = _known(sampler) if all_groups else list(dict.fromkeys(group or [settings.app_id]))
        if not names:
            raise ConfigError("no consumer groups to show", hint="name one with --group")
        unknown = [] if all_groups else [name for name in names if name not in _known(sampler)]
        if unknown:
            raise NotFoundError(f"no consumer group {', '.join(unknown)} on {settings.bootstrap_servers}",
                                hint="`streams lag --all` shows every group; name one with --group")
        console = Console()
        if watch:
            _watch(console, sampler, evaluator, names, interval)
            return
        groups: list[GroupLag] = []
        for index in range(samples):
            if index:
                time.sleep(interval)
            groups = evaluator.observe(sampler.sample(names))
    finally:
        sampler.close()
    if as_json:
        typer.echo(json.dumps([g.to_json() for g in groups]))
    else:
        console.print(_render(groups))


def _known(sampler: LagSampler) -> list[str]:
    """The groups the cluster knows (with members, or committed offsets); Kafka describes any other name as a
    group with nothing in it, which would read as status OK."""
    try:
        return sampler.all_groups()
    except KafkaException as exc:
        raise TransientError(f"cannot list consumer groups: {exc.args[0]}",
                             hint="is the broker reachable? check STREAMS_BROKER") from exc


def _watch(console: Console, sampler: LagSampler, evaluator: Evaluator, names: list[str], interval: float) -> None:
    try:
        with Live(console=console, auto_refresh=False) as live:
            while True:
                groups = evaluator.observe(sampler.sample(names))
                live.update(Group(_render(groups), Text(f"every {interval:g}s; Ctrl-C to stop", style="dim")),
                            refresh=True)
                time.sleep(interval)
    except KeyboardInterrupt:
        return


def _render(groups: list[GroupLag]) -> Table:
    table = Table("group", "topic", "partition", "committed", "log end", "lag", "lag (s)", "status",
                  title=f"Consumer lag at {time.strftime('%H:%M:%S')}")
    for g in groups:
        colour = _COLOURS[g.status]
        table.add_row(Text(g.group, style="bold"), f"{g.state}, {len(g.members)} member(s)", "", "", "",
                      f"{g.total_lag:,}", f"{g.max_lag_seconds:,.1f}", Text(g.status.name, style=f"bold {colour}"))
        for p in g.partitions:
            table.add_row("", p.topic, str(p.partition), "-" if p.committed is None else f"{p.committed:,}",
                          f"{p.log_end:,}", f"{p.lag:,}", f"{p.lag_seconds:,.1f}",
                          Text(p.status.name, style=_COLOURS[p.status]))
    if not groups:
        table.caption = "no such groups"
    return table
