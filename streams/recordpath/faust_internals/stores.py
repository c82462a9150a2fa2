"""Table stores that write RocksDB without its write-ahead log, and flush their memtables when they stop.

Faust's RocksDB store writes every put through RocksDB's write-ahead log (WAL), so that
writes since the last memtable flush survive a crash of the process.  The record path
never relies on that (``streams.recordpath.protocol``):

* a store is trusted after a restart only if its worker stopped cleanly
  (``recovery.json``: marked unclean when the first store opens, clean only in the
  app's ``on_shutdown``, which mode runs after the tables, and so their stores, have
  stopped);
* a store left by a crash, or given up in a rebalance, is emptied and restored from
  its changelog, whatever its disk holds.

So what the WAL keeps (the writes since the last flush, after a crash) is thrown away
anyway.  What a clean stop needs is its memtables on disk before the clean mark is
written: ``UnloggedStore.stop`` flushes each partition's database first (RocksDB
also flushes unlogged memtables when a database closes, but Faust never closes one: it
drops it, and a store still referenced when the interpreter exits is never closed).
Kafka Streams runs its RocksDB stores the same way: WAL off, memtables flushed before
its checkpoint file is written.

A revoked partition's database is dropped by Faust as before (RocksDB flushes it when
it closes); recovery distrusts a given-up store anyway.

Measured (``docs/benchmarks.md``): a put took 2.4 us with the log and 0.9 to 1.4 without, in a loop of its own;
in a worker that is a few microseconds per event, below what a shared machine can show.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from faust.stores.rocksdb import RocksDBOptions
from faust.stores.rocksdb import Store as RocksDBStore
from rocksdict import Rdict, WriteOptions

__all__ = ["UnloggedOptions", "UnloggedStore", "flush"]


def _unlogged() -> WriteOptions:
    options = WriteOptions()
    options.disable_wal = True  # type: ignore[assignment]  # a property: rocksdict's stub calls it a method
    return options


class UnloggedOptions(RocksDBOptions):
    """Faust's options for a partition's database, which is then written without the write-ahead log."""

    def open(self, path: Path, *, read_only: bool = False) -> Rdict:
        if not self.use_rocksdict:
            raise RuntimeError("tables need rocksdict (python-rocksdb is not supported): pip install rocksdict")
        db: Rdict = super().open(path, read_only=read_only)
        db.set_write_options(_unlogged())  # every put, delete and write batch of this handle
        return db


class UnloggedStore(RocksDBStore):
    """Faust's RocksDB store, writing without the write-ahead log; ``stop`` flushes before Faust drops the databases."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Faust's own, built from the same options (Faust has popped ``driver`` and ``read_only`` off them)
        self.rocksdb_options = UnloggedOptions(**(self.options or {}), use_rocksdict=self.use_rocksdict)

    async def stop(self) -> None:
        flush(self._dbs.values())
        await super().stop()


def flush(dbs: Iterable[Rdict]) -> None:
    """Write each database's memtables to its files, waiting until they are."""
    for db in dbs:
        db.flush(True)
