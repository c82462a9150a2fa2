"""A table's rows as its changelog last says them, read straight from Kafka: no worker needed.

Faust writes every change of a table to ``<app id>-<table>-changelog`` (compacted), key and value as JSON.  The
last record of a key is the key's value; a tombstone (no value) is a deleted key.  Operator tools read tables
this way (``streams tables``, parked keys in ``streams dlq``): the answer covers every partition whichever
worker owns it, and needs no worker up.  It may be a moment behind the workers' stores (what they wrote and has
not reached the changelog yet), and may show the unfinished work of a worker that crashed, which its successor
does again (``streams.recordpath.protocol``): a view for people, not a source of truth for code.
"""

from __future__ import annotations

import json
from typing import Any

from streams.connection import KafkaConnection
from streams.scan import scan

__all__ = ["CHANGELOG_SUFFIX", "changelog_topic", "table_name", "table_rows"]

CHANGELOG_SUFFIX = "-changelog"


def changelog_topic(app_id: str, table: str) -> str:
    """Faust's name for the changelog of ``table`` of the app ``app_id``."""
    return f"{app_id}-{table}{CHANGELOG_SUFFIX}"


def table_name(app_id: str, topic: str) -> str | None:
    """The table whose changelog ``topic`` is, in the app ``app_id``; None for any other topic."""
    prefix = f"{app_id}-"
    if not topic.startswith(prefix) or not topic.endswith(CHANGELOG_SUFFIX):
        return None
    return topic[len(prefix):-len(CHANGELOG_SUFFIX)] or None  # "<app>-changelog" names no table


def table_rows(kafka: KafkaConnection, topic: str) -> dict[Any, Any]:
    """Each key of the changelog ``topic`` (decoded from JSON) and its last value; deleted keys left out."""
    rows: dict[Any, Any] = {}
    for record in scan(kafka, topic):
        if record.key is None:
            continue
        key = _json(record.key)
        if not isinstance(key, str | int | float | bool):  # a structured key: its JSON text
            key = record.key.decode(errors="replace")
        if record.value is None:
            rows.pop(key, None)
        else:
            rows[key] = _json(record.value)
    return rows


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:  # a table with raw keys (the parked keys' tables): the bytes as text
        return raw.decode(errors="replace")
