"""Compatibility levels, decided by Apache Avro's own checker (avro.compatibility).

BACKWARD: the new schema can read data written with the previous one.
FORWARD: the previous schema can read data written with the new one.
FULL: both.  *_TRANSITIVE: against every live version, not only the latest.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

import avro.schema
from avro.compatibility import ReaderWriterCompatibilityChecker, SchemaCompatibilityType

from streams.registry.errors import InvalidCompatibilityLevelError

__all__ = ["Level", "incompatibilities", "parse_level"]


class Level(StrEnum):
    NONE = "NONE"
    BACKWARD = "BACKWARD"
    BACKWARD_TRANSITIVE = "BACKWARD_TRANSITIVE"
    FORWARD = "FORWARD"
    FORWARD_TRANSITIVE = "FORWARD_TRANSITIVE"
    FULL = "FULL"
    FULL_TRANSITIVE = "FULL_TRANSITIVE"


def parse_level(value: object) -> Level:
    try:
        return Level(str(value).upper())
    except ValueError:
        raise InvalidCompatibilityLevelError(
            f"Invalid compatibility level {value!r}; valid: {', '.join(level.value for level in Level)}"
        ) from None


def _check(reader: avro.schema.Schema, writer: avro.schema.Schema, direction: str, version: int) -> list[str]:
    checker = ReaderWriterCompatibilityChecker()  # type: ignore[no-untyped-call]
    result = checker.get_compatibility(reader, writer)
    if result.compatibility is SchemaCompatibilityType.compatible:
        return []
    kinds = {i.value for i in result.incompatibilities}
    where = ", ".join(sorted(result.locations))
    # Avro's message for a reader field without a default is the bare field name: say what it means.
    missing_default = "reader_field_missing_default_value" in kinds
    details = [f"field '{m}' is missing from the data and has no default" if missing_default and " " not in m
               else m for m in sorted(result.messages)]
    return [f"{direction} incompatible with version {version}: {', '.join(sorted(kinds))} "
            f"(at {where}): {'; '.join(details)}"]


def incompatibilities(new: avro.schema.Schema, existing: Sequence[tuple[int, avro.schema.Schema]],
                      level: Level) -> list[str]:
    """Every incompatibility of ``new`` against ``existing`` (version, schema), oldest first, at ``level``."""
    if level is Level.NONE or not existing:
        return []
    against = existing if level.value.endswith("_TRANSITIVE") else existing[-1:]
    problems: list[str] = []
    for version, old in against:
        if level.value.startswith(("BACKWARD", "FULL")):
            problems += _check(new, old, "backward (new schema reading old data)", version)
        if level.value.startswith(("FORWARD", "FULL")):
            problems += _check(old, new, "forward (old schema reading new data)", version)
    return problems
