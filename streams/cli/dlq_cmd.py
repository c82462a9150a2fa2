"""``streams dlq``: see, redrive and release dead letters.

* ``list``: dead letters by topic and reason, and the keys parked behind them;
* ``show``: the records, headers decoded, values decoded where they can be;
* ``redrive``: back to the original topic in original order per key; a dry run
  unless ``--execute``; filters by error class, key and offset range; a rate
  limit; a summary; every run written to the audit log;
* ``release``: let the later records of a parked key flow again without
  redriving its dead letters (they stay in the dead-letter topic); a key
  nothing is parked under is an error (nothing sent, nothing audited);
* ``history``: the audit log of redrives and releases.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from streams.audit import AuditLog, operator
from streams.avro import AvroCodec, ConfluentRegistry
from streams.cli.options import DRY_RUN, EXECUTE, executing, reached
from streams.dlq import DeadLetter
from streams.dlq.redrive import Selection, execute, plan
from streams.dlq.tally import DeadLetterTally
from streams.errors import ConfigError, NotFoundError, StreamsError
from streams.producer import DurableProducer
from streams.recordpath.agent import control_topic
from streams.recordpath.processing import release_request
from streams.scan import scan
from streams.settings import Settings
from streams.tables import table_name, table_rows
from streams.topics import DLQ_SUFFIX, dlq_topic
from streams.tracing import CLI_SERVICE, start_tracing

__all__ = ["dlq_app"]

dlq_app = typer.Typer(help="Dead letters: list, show, redrive, release.", no_args_is_help=True)

_TOPIC = typer.Option("orders", "--topic", help="the source topic whose dead letters to work on")
_ERROR_CLASS = typer.Option(None, "--error-class", help="only these error classes (repeatable)")
_KEY = typer.Option(None, "--key", help="only records with these keys (repeatable)")
_PARTITION = typer.Option(None, "--partition", help="only this partition of the dead-letter topic")
_FROM = typer.Option(None, "--from-offset", help="dead-letter topic offsets from (inclusive)")
_TO = typer.Option(None, "--to-offset", help="dead-letter topic offsets up to (inclusive)")
_JSON = typer.Option(False, "--json", help="JSON lines instead of a table")


def _selection(error_class: list[str] | None, key: list[str] | None, partition: int | None,
               from_offset: int | None, to_offset: int | None) -> Selection:
    if from_offset is not None and to_offset is not None and from_offset > to_offset:
        raise ConfigError(f"--from-offset {from_offset} is after --to-offset {to_offset}")
    return Selection(error_classes=frozenset(error_class or ()), keys=frozenset(k.encode() for k in key or ()),
                     partition=partition, from_offset=from_offset, to_offset=to_offset)


def _source(settings: Settings, topic: str) -> str:
    """The source topic's full name; ``--topic orders.dlq`` (the dead-letter topic's own name) means orders."""
    return f"{settings.topic_prefix}{topic.removesuffix(DLQ_SUFFIX)}"


def _letters(settings: Settings, topic: str) -> list[DeadLetter]:
    source = _source(settings, topic)
    return [DeadLetter.from_record(r) for r in scan(settings.kafka, dlq_topic(source), missing_ok=True)]


@dlq_app.command("list")
def list_(as_json: bool = _JSON) -> None:
    """Dead letters by topic and reason, and the keys parked behind them."""
    settings = Settings()
    reached(settings)  # a refused password or certificate: one line, at once
    tally = DeadLetterTally(settings.kafka, topic_prefix=settings.topic_prefix)
    try:
        counts = tally.refresh()
    finally:
        tally.close()
    parked = _parked(settings)
    if as_json:
        typer.echo(json.dumps({"dead_letters": counts, "parked": parked}))
        return
    console = Console()
    table = Table("dead-letter topic", "reason", "records", title="Dead letters")
    for row in counts:
        table.add_row(row["topic"], row["reason"], f"{row['count']:,}")
    console.print(table if counts else "no dead letters")
    if parked:
        keys = Table("key", "records set aside", "since", "parked by", title="Parked keys")
        for row in parked:
            keys.add_row(row["key"], str(row["count"]), row["since"], row["head"])
        console.print(keys)


def _parked(settings: Settings) -> list[dict[str, Any]]:
    """Parked keys of this app's agents, from their tables' changelogs (the latest value of each key)."""
    rows = []
    for topic in sorted(settings.kafka.admin().list_topics(timeout=15).topics):
        table = table_name(settings.app_id, topic)
        if table is not None and table.endswith("-parked"):
            rows += [{"table": table, "key": str(key), **value}
                     for key, value in table_rows(settings.kafka, topic).items()]
    return rows


@dlq_app.command("show")
def show(topic: str = _TOPIC, error_class: list[str] | None = _ERROR_CLASS, key: list[str] | None = _KEY,
         partition: int | None = _PARTITION, from_offset: int | None = _FROM, to_offset: int | None = _TO,
         limit: int = typer.Option(50, help="show at most this many"), as_json: bool = _JSON) -> None:
    """The dead letters, oldest first per partition: where from, why, headers, and the value decoded."""
    settings = Settings()
    reached(settings)  # a refused password or certificate: one line, at once
    selection = _selection(error_class, key, partition, from_offset, to_offset)
    letters = [letter for letter in _letters(settings, topic) if selection.picks(letter)][:limit]
    codec = AvroCodec(ConfluentRegistry(settings.schema_registry_url, settings.registry_client_config))
    console = Console()
    for letter in letters:
        body = {**letter.to_json(), "value": _decoded(codec, letter.record.value)}
        if as_json:
            typer.echo(json.dumps(body, default=str))
        else:
            console.print_json(json.dumps(body, default=str))
    if not as_json:
        console.print(f"{len(letters)} dead letter(s) shown")


def _decoded(codec: AvroCodec, value: bytes | None) -> Any:
    try:
        decoded = codec.decode(value)
    except StreamsError as exc:
        preview = (value or b"")[:64]
        return {"undecodable": exc.message, "bytes": "0x" + preview.hex(), "length": len(value or b"")}
    return {"schema_id": decoded.schema_id, "type": decoded.writer_name, "record": decoded.record}


@dlq_app.command("redrive")
def redrive(topic: str = _TOPIC, error_class: list[str] | None = _ERROR_CLASS, key: list[str] | None = _KEY,
            partition: int | None = _PARTITION, from_offset: int | None = _FROM, to_offset: int | None = _TO,
            dry_run: bool = DRY_RUN, act: bool = EXECUTE,
            rate: float | None = typer.Option(None, "--rate", min=0.1, help="at most this many records per second"),
            ) -> None:
    """Send dead letters back to their original topic, in original order per key (a dry run unless --execute)."""
    dry_run = not executing(dry_run, act)
    settings = Settings()
    reached(settings)  # a refused password or certificate: one line, at once
    selection = _selection(error_class, key, partition, from_offset, to_offset)
    redrive_plan = plan(_letters(settings, topic), selection, str(uuid.uuid4()))
    console = Console()
    table = Table("from", "key", "error class", "seq", "to", "last of key",
                  title=f"{'Would move' if dry_run else 'Moving'} {len(redrive_plan.moves)} record(s)")
    for move in redrive_plan.moves[:200]:
        record = move.letter.record
        table.add_row(move.letter.where, (record.key or b"").decode(errors="replace"), move.letter.error_class,
                      str(move.letter.sequence or ""), f"{move.topic}:{move.partition}",
                      "yes" if move.last_of_key else "")
    if len(redrive_plan.moves) > 200:
        table.caption = f"... and {len(redrive_plan.moves) - 200} more"
    console.print(table)
    summary = {"redrive_id": redrive_plan.redrive_id, "topic": dlq_topic(_source(settings, topic)),
               "selection": selection.to_json(), "selected": len(redrive_plan.moves),
               "not_selected": redrive_plan.skipped, "by_error_class": redrive_plan.counts()}
    if dry_run:
        console.print(f"dry run: nothing moved ({len(redrive_plan.moves)} selected, {redrive_plan.skipped} not); "
                      "add --execute to move them")
        return
    if not redrive_plan.moves:
        console.print("nothing to move")
        return
    producer = DurableProducer(settings.kafka, client_id="streams-redrive",
                               tracing=start_tracing(settings, service=CLI_SERVICE))
    try:
        with Progress(TextColumn("redrive"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=console, transient=True) as bar:
            task = bar.add_task("redrive", total=len(redrive_plan.moves))
            moved = execute(redrive_plan, producer, rate=rate, progress=lambda done: bar.update(task, completed=done))
    finally:
        producer.close()
    AuditLog(settings).write("dlq-redrive", {**summary, "moved": moved}, entry_id=redrive_plan.redrive_id)
    console.print(f"moved {moved} record(s) back to their original topic; redrive id {redrive_plan.redrive_id} "
                  "(in the audit log: streams dlq history)")


@dlq_app.command("release")
def release(key: str = typer.Option(..., "--key", help="the parked key to release"), topic: str = _TOPIC) -> None:
    """Let the later records of a parked key flow again; its dead letters stay in the dead-letter topic."""
    settings = Settings()
    reached(settings)  # a refused password or certificate: one line, at once
    source = _source(settings, topic)
    parked = [row for row in _parked(settings) if row["key"] == key and str(row["head"]).startswith(f"{source}:")]
    if not parked:
        raise NotFoundError(f"nothing is parked under key {key!r} of {source}",
                            hint="`streams dlq list` shows the parked keys")
    sequences = [letter.sequence for letter in _letters(settings, topic)
                 if letter.record.key == key.encode() and letter.sequence is not None]
    through = max([*sequences, *(int(row["sequence"]) for row in parked)])
    producer = DurableProducer(settings.kafka, client_id="streams-release")
    try:
        producer.produce(control_topic(source), key.encode(), release_request(through, by=operator())).result(30)
    finally:
        producer.close()
    AuditLog(settings).write("dlq-release", {"topic": source, "key": key, "through_sequence": through})
    typer.echo(f"released key {key!r} of {source} (through sequence {through}); "
               "records parked after that keep it parked")


@dlq_app.command("history")
def history(as_json: bool = _JSON) -> None:
    """Every redrive and release, from the audit log."""
    entries = AuditLog(Settings()).read(kinds={"dlq-redrive", "dlq-release"})
    if as_json:
        for entry in entries:
            typer.echo(json.dumps(entry.to_json()))
        return
    table = Table("when", "who", "what", "details", title="Dead-letter actions")
    for entry in entries:
        details = entry.details
        what = (f"moved {details.get('moved')} from {details.get('topic')}" if entry.kind == "dlq-redrive"
                else f"released {details.get('key')!r} of {details.get('topic')}")
        table.add_row(entry.when, entry.who, entry.kind, what)
    Console().print(table)
