"""Table stores write RocksDB without its write-ahead log, and what they wrote is on disk once they stop.

A process that ends without closing its databases (Faust never closes one) keeps
only what was flushed: each case runs in a child process that ends with
``os._exit``, and the test then opens the database itself.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from faust.stores.rocksdb import RocksDBOptions
from rocksdict import Options, Rdict

from streams.recordpath.faust_internals.stores import UnloggedOptions

ROOT = Path(__file__).resolve().parents[4]
KEYS = 200


def wal_bytes(path: Path) -> int:
    """The size of the database's write-ahead log files."""
    return sum(f.stat().st_size for f in path.glob("*.log"))


@pytest.mark.parametrize(("options", "logged"), [(RocksDBOptions(), True), (UnloggedOptions(), False)],
                         ids=["faust-logs-every-put", "unlogged"])
def test_a_put_goes_to_the_write_ahead_log_only_with_fausts_options(tmp_path: Path, options: RocksDBOptions,
                                                                     logged: bool) -> None:
    db = options.open(tmp_path / "db")
    for i in range(KEYS):
        db.put(f"k{i}".encode(), b"v" * 100)
    assert (wal_bytes(tmp_path / "db") > 0) is logged
    db.close()


def run_child(script: str) -> None:
    """``script`` in a fresh interpreter at the repository's root, which must end with ``os._exit(0)``."""
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr


def keys_in(path: Path) -> int:
    options = Options(raw_mode=True)
    db = Rdict(str(path), options)
    try:
        return len(list(db.keys()))
    finally:
        db.close()


@pytest.mark.parametrize("flushed", [True, False], ids=["flushed", "not-flushed"])
def test_unlogged_writes_outlive_a_process_that_never_closes_its_database_only_once_flushed(
        tmp_path: Path, flushed: bool) -> None:
    run_child(f"""
        import os
        from pathlib import Path
        from streams.recordpath.faust_internals.stores import UnloggedOptions, flush
        db = UnloggedOptions().open(Path({str(tmp_path / "db")!r}))
        for i in range({KEYS}):
            db.put(f"k{{i}}".encode(), b"v" * 100)
        if {flushed}:
            flush([db])
        os._exit(0)  # as a process whose database is still referenced when it ends
    """)
    assert keys_in(tmp_path / "db") == (KEYS if flushed else 0)


@pytest.mark.parametrize("stopped", [True, False], ids=["stopped", "not-stopped"])
def test_a_tables_store_is_unlogged_and_stopping_it_puts_its_writes_on_disk(tmp_path: Path, stopped: bool) -> None:
    run_child(f"""
        import asyncio, os
        from pathlib import Path
        from streams.app import build_app
        from streams.recordpath.faust_internals.stores import UnloggedStore
        from streams.settings import Settings
        app = build_app(Settings(data_dir=Path({str(tmp_path / "data")!r}), app_id="stores"))
        table = app.Table("t", partitions=1)
        store = table.data
        assert type(store) is UnloggedStore, type(store)
        db = store._db_for_partition(0)  # still referenced after the stop: the stop's flush is what persists
        for i in range({KEYS}):
            db.put(f"k{{i}}".encode(), b"v" * 100)
        with open(Path({str(tmp_path / "path")!r}), "w") as out:
            out.write(str(store.partition_path(0)))
        if {stopped}:
            asyncio.run(store.stop())
        os._exit(0)
    """)
    path = Path((tmp_path / "path").read_text())
    assert wal_bytes(path) == 0
    assert keys_in(path) == (KEYS if stopped else 0)
