"""``streams replay``: reset a consumer group's offsets with the flags of ``kafka-consumer-groups.sh``.

A dry run unless ``--execute``: it prints, per partition, the offset before
and after.  It refuses while the group has active members.  With ``--rebuild
<read model>`` the replay rebuilds that read model blue/green into a new
generation (``streams.replay.rebuilds``).  Every executed reset and rebuild is
written to the audit log; ``--history`` shows it.
"""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from streams.audit import AuditLog
from streams.cli.options import DRY_RUN, EXECUTE, executing
from streams.errors import ConfigError
from streams.loader import beside_factory
from streams.replay import (
    GroupOffsets,
    Move,
    RebuildLog,
    RebuildPlan,
    Reset,
    ResetKind,
    parse_datetime,
    parse_topic,
    table_name,
)
from streams.settings import Settings

__all__ = ["replay"]

KINDS = ("replay-reset", "replay-rebuild")


def replay(
    group: str | None = typer.Option(None, "--group", help="the consumer group (default: STREAMS_APP_ID)"),
    topic: str | None = typer.Option(None, "--topic", help="T or T:0,1,2 (with --rebuild: the read model's)"),
    to_earliest: bool = typer.Option(False, "--to-earliest", help="to the start of the log"),
    to_latest: bool = typer.Option(False, "--to-latest", help="to the end of the log (skip everything)"),
    to_datetime: str | None = typer.Option(None, "--to-datetime", help="first offset at or after this ISO time"),
    to_offset: int | None = typer.Option(None, "--to-offset", help="this offset (clamped into the log)"),
    shift_by: int | None = typer.Option(None, "--shift-by", help="committed offset plus N (may be negative)"),
    dry_run: bool = DRY_RUN,
    act: bool = EXECUTE,
    rebuild: str | None = typer.Option(None, "--rebuild", help="rebuild this read model into a new generation"),
    history: bool = typer.Option(False, "--history", help="show every reset and rebuild from the audit log"),
    as_json: bool = typer.Option(False, "--json", help="JSON instead of a table"),
) -> None:
    """Reset a group's offsets (a dry run unless --execute); --rebuild a read model blue/green."""
    dry_run = not executing(dry_run, act)
    settings = Settings()
    if history:
        _history(settings, as_json)
        return
    reset = _reset(to_earliest, to_latest, to_datetime, to_offset, shift_by)
    group = group or settings.app_id
    topic_name_, partitions, read_models = _target(settings, topic, rebuild)
    offsets = GroupOffsets(settings.bootstrap_servers)
    offsets.refuse_if_active(group)
    moves = offsets.plan(group, topic_name_, partitions, reset)
    plan = None
    if rebuild is not None:
        plan = _rebuild_plan(settings, offsets, group, rebuild, topic_name_, moves, read_models)
    console = Console()
    if as_json:
        typer.echo(json.dumps({"group": group, "topic": topic_name_, "reset": reset.describe(),
                               "execute": not dry_run, "moves": [m.to_json() for m in moves],
                               "rebuild": plan.to_json() if plan else None}))
    else:
        console.print(_table(group, topic_name_, reset, moves, dry_run))
    if dry_run:
        if not as_json:
            console.print("dry run: nothing changed; add --execute to reset" +
                          (f" and rebuild {rebuild} into generation {plan.generation}" if plan else ""))
        return
    details = {"group": group, "topic": topic_name_, "reset": reset.describe(), "moves": [m.to_json() for m in moves]}
    if plan is not None and rebuild is not None:
        _rebuild(settings, offsets, group, plan, moves)
        AuditLog(settings).write("replay-rebuild", {**details, "rebuild": plan.to_json()}, entry_id=plan.id)
        message = (f"reset {group} on {topic_name_}; start the workers: they rebuild {rebuild} into table "
                   f"{table_name(rebuild, plan.generation)} and switch each partition when it has caught up")
    else:
        back = {(m.topic, m.partition): m.before for m in moves if m.before is not None and m.after < m.before}
        if back:  # first: a worker started after the reset must know what its read models already hold
            RebuildLog(settings).raise_floors(group, back)
        offsets.apply(group, moves)
        AuditLog(settings).write("replay-reset", details)
        message = f"reset {group} on {topic_name_}: {sum(m.changes for m in moves)} partition(s) moved"
    if not as_json:
        console.print(message)


def _rebuild(settings: Settings, offsets: GroupOffsets, group: str, plan: RebuildPlan, moves: list[Move]) -> None:
    """Plan first, then the reset: a worker must never replay into a table without knowing it rebuilds.

    The group is inactive, so no worker reads the plan in between; if the reset fails, the plan is
    withdrawn (the previous one written back) before the error is reported.
    """
    log = RebuildLog(settings)
    previous = log.latest(group).get(plan.read_model)
    log.write(plan)
    try:
        offsets.apply(group, moves)
    except Exception:
        log.withdraw(plan, previous)
        raise


def _reset(to_earliest: bool, to_latest: bool, to_datetime: str | None, to_offset: int | None,
           shift_by: int | None) -> Reset:
    chosen = [name for name, given in (("--to-earliest", to_earliest), ("--to-latest", to_latest),
                                       ("--to-datetime", to_datetime is not None),
                                       ("--to-offset", to_offset is not None),
                                       ("--shift-by", shift_by is not None)) if given]
    if len(chosen) != 1:
        raise ConfigError(f"give exactly one of --to-earliest, --to-latest, --to-datetime, --to-offset, --shift-by"
                          f" (got {', '.join(chosen) or 'none'})", hint="see `streams replay --help`")
    if to_earliest:
        return Reset(ResetKind.EARLIEST)
    if to_latest:
        return Reset(ResetKind.LATEST)
    if to_datetime is not None:
        return Reset(ResetKind.DATETIME, at=parse_datetime(to_datetime))
    if to_offset is not None:
        return Reset(ResetKind.OFFSET, offset=to_offset)
    return Reset(ResetKind.SHIFT, offset=shift_by)


def _target(settings: Settings, topic: str | None,
            rebuild: str | None) -> tuple[str, list[int] | None, dict[str, str]]:
    """The topic (and partitions) to reset; with --rebuild, the read model's source topic."""
    read_models: dict[str, str] = {}
    if rebuild is not None:
        read_models = beside_factory(settings, "read_models")(settings)
        if rebuild not in read_models:
            raise ConfigError(f"no read model {rebuild!r}; the app has {', '.join(sorted(read_models))}")
        source = read_models[rebuild]
        if topic is None:
            return source, None, read_models
        name, partitions = parse_topic(topic)
        name = name if name.startswith(settings.topic_prefix) else f"{settings.topic_prefix}{name}"
        if name != source or partitions is not None:
            raise ConfigError(f"the {rebuild} read model is built from every partition of {source!r}",
                              hint=f"leave out --topic, or give --topic {source}")
        return source, None, read_models
    if topic is None:
        raise ConfigError("--topic is required (T or T:0,1,2)", hint="see `streams replay --help`")
    name, partitions = parse_topic(topic)
    return (name if name.startswith(settings.topic_prefix) else f"{settings.topic_prefix}{name}"), partitions, {}


def _rebuild_plan(settings: Settings, offsets: GroupOffsets, group: str, read_model: str, topic: str,
                  moves: list[Move], read_models: dict[str, str]) -> RebuildPlan:
    previous = RebuildLog(settings).latest(group).get(read_model)
    if previous is not None:
        committed = offsets.committed(group, [(previous.topic, p) for p in previous.switch])
        pending = previous.pending({p: committed.get((previous.topic, p)) for p in previous.switch})
        if pending:
            raise ConfigError(f"the rebuild of {read_model} into generation {previous.generation} has not caught up "
                              f"on partition(s) {pending} yet", hint="start the workers and let it finish first")
    # The new generation gets only what is replayed: going forward, or not back at all, leaves it without
    # what the old one has.
    short = [m.partition for m in moves if m.before is not None and m.before > m.log_start and m.after >= m.before]
    if short:
        raise ConfigError(f"a rebuild of {read_model} must replay what it has applied, but partition(s) {short} "
                          "would not go back", hint="use --to-earliest, or an earlier --to-offset/--to-datetime")
    return RebuildPlan(group=group, read_model=read_model, generation=(previous.generation + 1 if previous else 1),
                       topic=topic, switch={m.partition: m.before if m.before is not None else 0 for m in moves})


def _table(group: str, topic: str, reset: Reset, moves: list[Move], dry_run: bool) -> Table:
    table = Table("topic", "partition", "log start", "log end", "committed now", "after", "records to replay",
                  title=f"{'Would reset' if dry_run else 'Resetting'} {group} {reset.describe()}")
    for m in moves:
        before = "-" if m.before is None else f"{m.before:,}"
        again = max((m.before if m.before is not None else m.log_start) - m.after, 0)
        table.add_row(m.topic, str(m.partition), f"{m.log_start:,}", f"{m.log_end:,}", before, f"{m.after:,}",
                      f"{again:,}" if again else "")
    return table


def _history(settings: Settings, as_json: bool) -> None:
    entries = AuditLog(settings).read(kinds=KINDS)
    if as_json:
        for entry in entries:
            typer.echo(json.dumps(entry.to_json()))
        return
    table = Table("when", "who", "what", "group", "topic", "from", "to", title="Offset resets and rebuilds")
    for entry in entries:
        d = entry.details
        moves = d.get("moves", [])
        what = d.get("reset", "") + (f" --rebuild {d['rebuild']['read_model']} (generation "
                                     f"{d['rebuild']['generation']})" if "rebuild" in d else "")
        table.add_row(entry.when, entry.who, what, str(d.get("group")), str(d.get("topic")),
                      ", ".join(f"{m['partition']}:{m['before']}" for m in moves),
                      ", ".join(f"{m['partition']}:{m['after']}" for m in moves))
    Console().print(table if entries else "no resets or rebuilds yet")
