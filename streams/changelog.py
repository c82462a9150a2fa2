"""Faust tables whose changelog records go through the app's ``Outbox`` (see ``streams.outbox``).

Faust's documented extension point is the table class (the ``Table`` setting);
this one overrides how a write or a delete reaches the changelog: through
librdkafka, counted on the current event's ticket, so the event is
acknowledged only once its table writes are durable too.  The store's
persisted offset, what lets a restarted worker replay only the changelog's
tail, is set when the record is delivered, as Faust does.  A write outside an
agent's processing (no current ticket) takes Faust's own path.

Memory: Faust opens one RocksDB per table partition with 3 x 64 MB memtables
and a 2 GB block cache each, sized for one big table on a big machine.  A
worker here holds dozens of small ones (read models x partitions, generations
during a rebuild), so the defaults below bound each to 2 x 8 MB of memtables
and a 16 MB cache; a table's own ``options=`` still wins, key by key.
"""

from __future__ import annotations

from typing import Any

import faust
from faust.types import TP

from streams.outbox import CURRENT

__all__ = ["ROCKSDB_DEFAULTS", "OutboxTable"]

ROCKSDB_DEFAULTS: dict[str, int] = {
    "write_buffer_size": 8 * 1024**2,
    "max_write_buffer_number": 2,
    "target_file_size_base": 16 * 1024**2,
    "block_cache_size": 16 * 1024**2,
    "block_cache_compressed_size": 4 * 1024**2,
}


class OutboxTable(faust.Table):  # type: ignore[type-arg]  # generic in Faust, keys and values are Any here
    def __init__(self, app: Any, *, options: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(app, options={**ROCKSDB_DEFAULTS, **(options or {})}, **kwargs)

    def on_key_set(self, key: Any, value: Any) -> None:
        outbox = getattr(self.app, "outbox", None)
        if outbox is None or CURRENT.get() is None:
            super().on_key_set(key, value)
            return
        value_bytes, _ = self.changelog_topic.prepare_value(value, self.value_serializer)
        self._send(outbox, key, value_bytes)

    def on_key_del(self, key: Any) -> None:
        outbox = getattr(self.app, "outbox", None)
        if outbox is None or CURRENT.get() is None:
            super().on_key_del(key)
            return
        self._send(outbox, key, None)  # a tombstone

    def _send(self, outbox: Any, key: Any, value: bytes | None) -> None:
        key_bytes, _ = self.changelog_topic.prepare_key(key, self.key_serializer)
        outbox.send(self.changelog_topic.get_topic_name(), key_bytes, value,
                    partition=self.partition_for_key(key), delivered=self._persisted)

    def _persisted(self, topic: str, partition: int, offset: int) -> None:
        self.data.set_persisted_offset(TP(topic, partition), offset)
