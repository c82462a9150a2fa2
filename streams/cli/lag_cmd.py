"""``streams lag``: consumer lag per group and partition, in messages and seconds, with Burrow's status.

Statuses are judged over a window of samples, so a one-off call samples
``--samples`` times ``--interval`` apart; ``--watch`` keeps sampling and
redraws the table in place until Ctrl-C; ``--json`` prints the last sample.
A group the cluster does not know is an error, except the app's own (no
``--group``) under ``--watch``: that one is waited for (a worker still starting).
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

from streams.cli.options import reached
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
    sampler = LagSampler(reached(settings))
    evaluator = Evaluator(size=max(samples, 2) if not watch else settings.lag_window)
    implied = not group and not all_groups
    try:
        known = _known(sampler)
        names = known if all_groups else list(dict.fromkeys(group or [settings.app_id]))
        if not names:
            raise ConfigError("no consumer groups to show", hint="name one with --group")
        listed = set(known)
        missing = [name for name in names if name not in listed]
        if missing and not (implied and watch):  # a watch of the app's own group waits for its worker
            raise _not_there(missing, settings, implied=implied)
        console = Console()
        if watch:
            _watch(console, _Watch(sampler, evaluator, names, waiting=missing), interval)
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


def _not_there(missing: list[str], settings: Settings, *, implied: bool) -> NotFoundError:
    if implied:  # nobody named it: most likely the worker has not joined yet (just started, or not running)
        return NotFoundError(f"the app's group {settings.app_id} is not on {settings.bootstrap_servers} yet: "
                             "no worker has joined it",
                             hint="is make run / streams worker running or still starting?")
    return NotFoundError(f"no consumer group {', '.join(missing)} on {settings.bootstrap_servers}",
                         hint="check the name; `streams lag --all` lists the groups there are")


class _Watch:
    """One table per sample; groups in ``waiting`` (the app's, before its worker joined) show as a row
    saying so, and are sampled from the first sample the cluster lists them in."""

    def __init__(self, sampler: LagSampler, evaluator: Evaluator, names: list[str], *,
                 waiting: list[str]) -> None:
        self.sampler, self.evaluator, self.names, self.waiting = sampler, evaluator, names, waiting

    def sample(self) -> Table:
        if self.waiting:
            known = set(_known(self.sampler))
            self.waiting = [name for name in self.waiting if name not in known]
        present = [name for name in self.names if name not in self.waiting]
        return _render(self.evaluator.observe(self.sampler.sample(present)), waiting=self.waiting)


def _watch(console: Console, watch: _Watch, interval: float) -> None:
    try:
        with Live(console=console, auto_refresh=False) as live:
            while True:
                live.update(Group(watch.sample(), Text(f"every {interval:g}s; Ctrl-C to stop", style="dim")),
                            refresh=True)
                time.sleep(interval)
    except KeyboardInterrupt:
        return


def _render(groups: list[GroupLag], *, waiting: list[str] | None = None) -> Table:
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
    for name in waiting or []:
        table.add_row(Text(name, style="bold"), Text(f"waiting for group {name} to appear", style="dim"))
    if not groups and not waiting:
        table.caption = "no such groups"
    return table
