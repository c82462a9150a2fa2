"""Fan-out: content-based routing of events to downstream topics, by rules that are data.

A ``Rule`` says: events of type ``source`` (``"*"`` for every type) whose
content matches ``pattern`` (an EventBridge event pattern, ``streams.routing.filters``)
go to topic ``target``, either as they are (the same Avro bytes, so the same
writer schema id) or turned by ``transform`` into the command ``command``
(Avro-encoded through the registry, subject ``<target>-<command full name>``).

``Fanout`` checks every rule once, at start-up: an unknown event type, a
pattern field the source schema does not have, or a command without a schema
is a ``ConfigError`` naming the rule.  Per event it picks the matching rules
(pure) and builds the output records: the key is kept, the envelope is
derived (same correlation id, causation id = the source event id) with an
event id that is the same on every reprocessing, so consumers deduplicate
redeliveries.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from streams.avro import AvroCodec, AvroSchema
from streams.envelope import Envelope, derived_event_id
from streams.errors import ConfigError
from streams.routing.filters import Pattern, PatternError, check_fields, compile_pattern

__all__ = ["ANY_EVENT", "Fanout", "Output", "Rule"]

ANY_EVENT = "*"

Transform = Callable[[Mapping[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Rule:
    name: str
    source: str  # event type (short name), or ANY_EVENT
    target: str  # topic, before STREAMS_TOPIC_PREFIX
    pattern: Mapping[str, Any] | None = None
    command: str | None = None  # the command's short name; with ``transform``
    transform: Transform | None = None
    rejected: bool = False
    """Also for events the domain refused to apply: they happened, and some consumers (analytics) want them all."""


@dataclass(frozen=True)
class Output:
    rule: str
    topic: str
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]


@dataclass(frozen=True)
class _Compiled:
    rule: Rule
    topic: str
    pattern: Pattern | None
    command: AvroSchema | None


class Fanout:
    def __init__(self, rules: Iterable[Rule], *, events: Mapping[str, AvroSchema],
                 commands: Mapping[str, AvroSchema], codec: AvroCodec, topic: Callable[[str], str],
                 producer: str) -> None:
        """``events`` and ``commands``: schemas by short name; ``topic`` maps a target to its real topic name."""
        self._codec = codec
        self._producer = producer
        self._by_source: dict[str, list[_Compiled]] = {name: [] for name in events}
        seen: set[str] = set()
        for rule in rules:
            if rule.name in seen:
                raise ConfigError(f"fan-out rule {rule.name!r} is defined twice")
            seen.add(rule.name)
            compiled = _compile(rule, events, commands, topic(rule.target))
            for source in (events if rule.source == ANY_EVENT else (rule.source,)):
                self._by_source[source].append(compiled)

    @property
    def targets(self) -> list[str]:
        return sorted({c.topic for rules in self._by_source.values() for c in rules})

    def matching(self, event_type: str, record: Mapping[str, Any], *, accepted: bool = True) -> list[Rule]:
        """The rules ``record`` (an event of ``event_type``, as decoded) goes out by, in rule order.

        ``accepted=False``: the domain refused the event; only rules with ``rejected=True`` take it.
        """
        return [c.rule for c in self._match(event_type, record, accepted)]

    async def outputs(self, event_type: str, record: Mapping[str, Any], *, key: bytes | None, value: bytes,
                      envelope: Envelope, accepted: bool = True) -> list[Output]:
        """The records to send for one event (``value``: its bytes as received)."""
        result = []
        for compiled in self._match(event_type, record, accepted):
            rule = compiled.rule
            if compiled.command is None:
                out_type, out_value = event_type, value
            else:
                assert rule.transform is not None
                assert rule.command is not None
                out_type = rule.command
                out_value = await self._codec.encode_async(compiled.topic, compiled.command, rule.transform(record))
            headers = envelope.derived_headers(out_type, self._producer, derived_event_id(envelope.event_id, rule.name))
            result.append(Output(rule.name, compiled.topic, key, out_value, headers))
        return result

    def _match(self, event_type: str, record: Mapping[str, Any], accepted: bool) -> list[_Compiled]:
        return [c for c in self._by_source.get(event_type, ())
                if (accepted or c.rule.rejected) and (c.pattern is None or c.pattern.matches(record))]


def _compile(rule: Rule, events: Mapping[str, AvroSchema], commands: Mapping[str, AvroSchema],
             topic: str) -> _Compiled:
    where = f"fan-out rule {rule.name!r}"
    if rule.source != ANY_EVENT and rule.source not in events:
        raise ConfigError(f"{where}: unknown event type {rule.source!r}; known: {', '.join(sorted(events))}")
    try:
        pattern = compile_pattern(rule.pattern) if rule.pattern is not None else None
    except PatternError as exc:
        raise PatternError(f"{where}: {exc.message}", details=exc.details) from exc
    if pattern is not None:
        for source in (sorted(events) if rule.source == ANY_EVENT else [rule.source]):
            check_fields(pattern, json.loads(events[source].text), where=f"{where} (on {source})")
    if (rule.command is None) != (rule.transform is None):
        raise ConfigError(f"{where}: a transform needs the command it makes, and a command its transform")
    command = None
    if rule.command is not None:
        command = commands.get(rule.command)
        if command is None:
            raise ConfigError(f"{where}: no schema for command {rule.command!r}; known: {', '.join(sorted(commands))}",
                              hint="add schemas/commands/<Command>.avsc")
    return _Compiled(rule, topic, pattern, command)
