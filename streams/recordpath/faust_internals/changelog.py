"""Faust tables whose changelog records go through the app's ``Outbox`` (see ``streams.recordpath.outbox``).

Faust's documented extension point is the table class (the ``Table`` setting);
this one overrides how a write or a delete reaches the changelog: through
librdkafka, counted on the current event's ticket, so the event is
acknowledged only once its table writes are durable too.  The store's
persisted offset, what lets a restarted worker replay only the changelog's
tail, is set when the record is delivered, as Faust does.  A write outside an
agent's processing (no current ticket) takes Faust's own path.

Two shortcuts, measured worth it (``bench.pipeline``): ``get`` looks a key
up once, where Faust's looks a present key up twice (``__contains__``, then
``__getitem__``); and ``table[key] = value`` encodes the value once, not
twice (store, changelog): the same bytes go to the store and the changelog record, which is
what Faust's own recovery assumes (it copies changelog bytes into the store as
they are).  The encodings are Faust's own codecs, checked byte for byte
against Faust's serializers in ``tests/unit/outbox/test_changelog_table.py``.

Every changelog record written while an event is processed carries that event's
source position (``streams_source``), and recovery decides what to restore with it:
``persisted_offset`` and ``apply_changelog_batch`` go through the app's
``StateRecovery`` (``streams.recordpath.faust_internals.recovery``).

Memory: Faust opens one RocksDB per table partition with 3 x 64 MB memtables
and a 2 GB block cache each, sized for one big table on a big machine.  A
worker here holds dozens of small ones (read models x partitions, generations
during a rebuild), so the defaults below bound each to 2 x 8 MB of memtables
and a 16 MB cache; a table's own ``options=`` still wins, key by key.  Its stores
write without RocksDB's write-ahead log (``streams.recordpath.faust_internals.stores``).
"""

from __future__ import annotations

import asyncio
from functools import cached_property
from typing import Any

import faust
from faust import stores
from faust.serializers.codecs import get_codec
from faust.stores.base import SerializedStore
from faust.stores.rocksdb import Store as RocksDBStore
from faust.types import TP, StoreT

from streams.headers import SOURCE
from streams.recordpath.faust_internals.stores import UnloggedStore
from streams.recordpath.outbox import CURRENT

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
        self._delivered: dict[TP, int] = {}  # highest delivered changelog offset per partition, not yet stored

    def _new_store_by_url(self, url: Any) -> StoreT[Any, Any]:
        """Faust's store for ``url`` (its arguments as Faust passes them), RocksDB's without its write-ahead log."""
        store_class = stores.by_url(url)
        if store_class is RocksDBStore:
            store_class = UnloggedStore
        return store_class(url, self.app, self, table_name=self.name, key_type=self.key_type,
                           key_serializer=self.key_serializer, value_serializer=self.value_serializer,
                           value_type=self.value_type, loop=self.loop, options=self.options)

    def get(self, key: Any, default: Any = None) -> Any:
        """``table.get(key)`` with one store lookup (Faust's makes two for a present key)."""
        store = self.data
        if self.default is not None or not isinstance(store, SerializedStore):
            return super().get(key, default)  # a table with a default factory: Faust's semantics
        raw = store._get(self._key_bytes(key))
        return default if raw is None else self._value_codec.loads(raw)

    def __setitem__(self, key: Any, value: Any) -> None:
        """Faust's write (changelog, then store) with the value encoded once for both."""
        outbox = getattr(self.app, "outbox", None)
        store = self.data
        if outbox is None or CURRENT.get() is None or not isinstance(store, SerializedStore):
            super().__setitem__(key, value)
            return
        key_bytes = self._key_bytes(key)
        value_bytes = self._value_bytes(value)
        self._send(outbox, key, key_bytes, value_bytes)
        store._set(key_bytes, value_bytes)  # what SerializedStore.__setitem__ does, without encoding again

    def on_key_set(self, key: Any, value: Any) -> None:
        outbox = getattr(self.app, "outbox", None)
        if outbox is None or CURRENT.get() is None:
            super().on_key_set(key, value)
            return
        self._send(outbox, key, self._key_bytes(key), self._value_bytes(value))

    def on_key_del(self, key: Any) -> None:
        outbox = getattr(self.app, "outbox", None)
        if outbox is None or CURRENT.get() is None:
            super().on_key_del(key)
            return
        self._send(outbox, key, self._key_bytes(key), None)  # a tombstone

    def _key_bytes(self, key: Any) -> bytes:
        """What Faust's serializers make of a key: a str through the table's key codec directly (all the registry
        would do), bytes as they are, anything else their way."""
        if type(key) is str:
            return self._key_codec.dumps(key)  # type: ignore[no-any-return]
        if type(key) is bytes:
            return key  # Faust never encodes bytes keys
        key_bytes, _ = self.changelog_topic.prepare_key(key, self.key_serializer)
        return key_bytes  # type: ignore[no-any-return]

    def _value_bytes(self, value: Any) -> bytes:
        """A plain dict through the table's value codec directly (all Faust's registry would do), else its way."""
        if type(value) is dict:
            return self._value_codec.dumps(value)  # type: ignore[no-any-return]
        value_bytes, _ = self.changelog_topic.prepare_value(value, self.value_serializer)
        return value_bytes  # type: ignore[no-any-return]

    @cached_property
    def _key_codec(self) -> Any:
        return get_codec(self.key_serializer or self.app.conf.key_serializer)

    @cached_property
    def _value_codec(self) -> Any:
        return get_codec(self.value_serializer or self.app.conf.value_serializer)

    def _send(self, outbox: Any, key: Any, key_bytes: bytes, value: bytes | None) -> None:
        ticket = CURRENT.get()
        stamp = ticket.stamp if ticket is not None else None
        outbox.send(self.changelog_topic.get_topic_name(), key_bytes, value,
                    [(SOURCE, stamp)] if stamp is not None else None,
                    partition=self.partition_for_key(key), delivered=self._persisted, state=True)

    def persisted_offset(self, tp: TP) -> int | None:
        """Faust's recovery asks this first, for every changelog partition it restores: the store is checked
        (and emptied when it cannot be trusted) before its offset is read."""
        recovery = getattr(self.app, "recovery", None)
        if recovery is not None:
            recovery.prepare(self, tp)
        return self.data.persisted_offset(tp)

    def apply_changelog_batch(self, batch: Any) -> None:
        """Faust's, less the records stamped at or past their source's resume point (unfinished work)."""
        recovery = getattr(self.app, "recovery", None)
        if recovery is None:
            super().apply_changelog_batch(batch)
            return
        kept, read = recovery.keep(self, batch)
        super().apply_changelog_batch(kept)
        for tp, offset in read.items():  # what was skipped is read too: never restored again
            self.data.set_persisted_offset(tp, offset)

    def _persisted(self, topic: str, partition: int, offset: int) -> None:
        """A changelog record is delivered. The store keeps the highest offset per partition, written once
        per batch of delivery reports (a lower one stored after a crash only makes recovery read more)."""
        tp = TP(topic, partition)
        if not self._delivered:
            try:
                asyncio.get_running_loop().call_soon(self._store_persisted)
            except RuntimeError:  # no loop (shutdown): at once
                self.data.set_persisted_offset(tp, offset)
                return
        if offset > self._delivered.get(tp, -1):
            self._delivered[tp] = offset

    def _store_persisted(self) -> None:
        delivered, self._delivered = self._delivered, {}
        for tp, offset in delivered.items():
            self.data.set_persisted_offset(tp, offset)
