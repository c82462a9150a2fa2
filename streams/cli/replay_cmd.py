"""``streams replay``: reset a consumer group's offsets with the flags of ``kafka-consumer-groups.sh``.

A dry run unless ``--execute``: it prints, per partition, the offset before
and after (also while the group is active, saying that executing needs it
inactive).  ``--execute`` refuses while the group has active members; under
``streams dev``, ``--restart-dev-worker`` has the stack stop its own worker for
the reset and start it again, its broker running on
(``streams.devstack.control``).  With ``--rebuild
<read model>`` the replay rebuilds that read model blue/green into a new
generation (``streams.replay.rebuilds``).  Every executed reset and rebuild is
written to the audit log; ``--history`` shows it.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator

import typer
from rich.console import Console
from rich.table import Table

from streams.audit import AuditLog
from streams.cli.options import DRY_RUN, EXECUTE, executing, reached
from streams.devstack.control import DevStackClient
from streams.errors import ConfigError
from streams.loader import beside_factory
from streams.replay import (
    GroupActiveError,
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
    restart_dev_worker: bool = typer.Option(
        False, "--restart-dev-worker",
        help="under `streams dev`: the stack stops its worker for the reset and starts it again (broker kept)"),
) -> None:
    """Reset a group's offsets (a dry run unless --execute); --rebuild a read model blue/green."""
    dry_run = not executing(dry_run, act)
    settings = Settings()
    if dry_run and restart_dev_worker and not history:  # on stderr: --json keeps its stdout JSON
        typer.echo("--restart-dev-worker has no effect without --execute", err=True)
    if history:
        _history(settings, as_json)
        return
    reset = _reset(to_earliest, to_latest, to_datetime, to_offset, shift_by)
    group = group or settings.app_id
    topic_name_, partitions, read_models = _target(settings, topic, rebuild)
    offsets = GroupOffsets(reached(settings))
    console = Console()
    if dry_run:
        members = offsets.members(group)  # showing is harmless, active or not
        moves = offsets.plan(group, topic_name_, partitions, reset)
        plan = (_rebuild_plan(settings, offsets, group, rebuild, topic_name_, moves, read_models)
                if rebuild is not None else None)
        _show(console, as_json, group, topic_name_, reset, moves, plan, dry_run, active=members)
        if not as_json:
            console.print("dry run: nothing changed; add --execute to reset" +
                          (f" and rebuild {rebuild} into generation {plan.generation}" if plan else ""))
            if members:
                console.print(f"group {group!r} is active ({len(members)} member(s): {', '.join(members)}): its "
                              "committed offsets move on while it runs, and --execute needs it inactive: "
                              f"{_working_path(settings)}")
        return
    with _group_stopped(settings, offsets, group, restart_dev_worker):
        moves = offsets.plan(group, topic_name_, partitions, reset)
        plan = (_rebuild_plan(settings, offsets, group, rebuild, topic_name_, moves, read_models)
                if rebuild is not None else None)
        _show(console, as_json, group, topic_name_, reset, moves, plan, dry_run, active=[])
        details = {"group": group, "topic": topic_name_, "reset": reset.describe(),
                   "moves": [m.to_json() for m in moves]}
        workers = "the dev stack's worker rebuilds" if restart_dev_worker else "start the workers: they rebuild"
        if plan is not None and rebuild is not None:
            _rebuild(settings, offsets, group, plan, moves)
            AuditLog(settings).write("replay-rebuild", {**details, "rebuild": plan.to_json()}, entry_id=plan.id)
            message = (f"reset {group} on {topic_name_}; {workers} {rebuild} into table "
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


def _show(console: Console, as_json: bool, group: str, topic: str, reset: Reset, moves: list[Move],
          plan: RebuildPlan | None, dry_run: bool, *, active: list[str]) -> None:
    if as_json:
        typer.echo(json.dumps({"group": group, "topic": topic, "reset": reset.describe(),
                               "execute": not dry_run, "moves": [m.to_json() for m in moves],
                               "rebuild": plan.to_json() if plan else None, "active_members": active}))
    else:
        console.print(_table(group, topic, reset, moves, dry_run))


def _working_path(settings: Settings) -> str:
    """How to get the group inactive: the dev stack's own path when one runs here, else stop the workers."""
    stack = DevStackClient.find(settings.data_dir, settings.bootstrap_servers)
    if stack is not None and stack.worker != "none":
        return (f"its worker is the `streams dev` stack's (pid {stack.pid}): add --restart-dev-worker, and the "
                "stack stops its worker, the reset runs and the worker starts again, the broker running on")
    return ("stop its workers (`streams worker` processes, or `docker compose stop worker-1 worker-2`); under "
            "`streams dev`, add --restart-dev-worker rather than Ctrl-C, which stops the broker too")


@contextlib.contextmanager
def _group_stopped(settings: Settings, offsets: GroupOffsets, group: str, restart_dev_worker: bool) -> Iterator[None]:
    """The group inactive inside the block: refused if it is active; with ``restart_dev_worker``, the dev
    stack's own worker stopped for the block and started again after it (no other process is touched)."""
    if not restart_dev_worker:
        members = offsets.members(group)
        if members:
            raise GroupActiveError(f"group {group!r} has {len(members)} active member(s): {', '.join(members)}",
                                   hint=f"stop them first: {_working_path(settings)}")
        yield
        return
    stack = DevStackClient.find(settings.data_dir, settings.bootstrap_servers)
    if stack is None:
        raise ConfigError(f"--restart-dev-worker: no `streams dev` stack runs with data dir {settings.data_dir} and "
                          f"broker {settings.bootstrap_servers}",
                          hint="run this where `make run` runs (same STREAMS_DATA_DIR and STREAMS_BROKER), "
                               "or leave the flag out and stop the workers yourself")
    say = Console(stderr=True, highlight=False).print
    timeout = settings.session_timeout_s + 90
    with stack.worker_held(stop_timeout=timeout, start_timeout=timeout, say=say):
        deadline = time.monotonic() + settings.session_timeout_s + 10  # a worker killed at stop leaves late
        while (members := offsets.members(group)) and time.monotonic() < deadline:
            time.sleep(0.5)
        if members:
            raise GroupActiveError(f"group {group!r} still has {len(members)} active member(s) with the dev "
                                   f"stack's worker stopped: {', '.join(members)}",
                                   hint="stop them first (they are not the stack's), then run this again")
        yield


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
