"""``OutboxTable``'s own encodings are Faust's, byte for byte; delivered changelog offsets are stored once per batch.

The worker writes the store and the changelog with ``OutboxTable.write``, which
encodes once; Faust's recovery later copies changelog bytes into the store as
they are, and Faust's ``get`` decodes them.  So the fast encodings must be
exactly what Faust's serializers give, or a restored table would differ from
the one that was written.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from faust.types import TP

from streams.app import build_app
from streams.recordpath.faust_internals.changelog import OutboxTable
from streams.settings import Settings

KEYS = ["o-1", "", "ключ-🙂", "c-" + "9" * 200, "a b\tc"]
VALUES: list[Any] = [
    {"order_id": "o-1", "items": [{"sku": "s", "quantity": 3}], "total_minor": 1500, "paid": None},
    {"nested": {"deep": [1, 2.5, True, None, "ü"]}, "empty": {}, "list": []},
    {},
]


@pytest.fixture
def table(tmp_path: Path) -> OutboxTable:
    app = build_app(Settings(data_dir=tmp_path, app_id="encodings"))
    table = app.Table("views", default=None, key_type=str, partitions=2)
    assert isinstance(table, OutboxTable)
    return table


@pytest.mark.parametrize("key", KEYS)
def test_key_bytes_are_fausts(table: OutboxTable, key: str) -> None:
    fausts, _ = table.changelog_topic.prepare_key(key, table.key_serializer)
    assert table._key_bytes(key) == fausts == table.data._encode_key(key)


def test_bytes_keys_stay_as_they_are_and_str_keys_are_json_as_faust_stores_them(table: OutboxTable) -> None:
    assert table._key_bytes(b"raw-bytes") == table.data._encode_key(b"raw-bytes") == b"raw-bytes"
    assert table._key_bytes("o-1") == b'"o-1"'  # what existing stores and changelogs hold: keep it


@pytest.mark.parametrize("value", VALUES)
def test_value_bytes_are_fausts_and_read_back_as_faust_would(table: OutboxTable, value: Any) -> None:
    fausts, _ = table.changelog_topic.prepare_value(value, table.value_serializer)
    mine = table._value_bytes(value)
    assert mine == fausts == table.data._encode_value(value)
    assert table._value_codec.loads(mine) == table.data._decode_value(fausts) == value


def test_delivered_offsets_are_stored_once_per_batch_highest_first(table: OutboxTable) -> None:
    stored: list[tuple[TP, int]] = []
    table.data.set_persisted_offset = lambda tp, offset: stored.append((tp, offset))  # type: ignore[method-assign]

    async def deliver() -> list[tuple[TP, int]]:
        for partition, offset in ((0, 5), (0, 9), (1, 3), (0, 7)):
            table._persisted("views-changelog", partition, offset)
        assert stored == []  # not yet: once the batch of reports is applied
        await asyncio.sleep(0)
        first = sorted(stored)
        table._persisted("views-changelog", 1, 4)
        await asyncio.sleep(0)
        return first

    first = asyncio.run(deliver())
    assert first == [(TP("views-changelog", 0), 9), (TP("views-changelog", 1), 3)]
    assert stored[-1] == (TP("views-changelog", 1), 4)


def test_without_a_loop_an_offset_is_stored_at_once(table: OutboxTable) -> None:
    stored: list[tuple[TP, int]] = []
    table.data.set_persisted_offset = lambda tp, offset: stored.append((tp, offset))  # type: ignore[method-assign]
    table._persisted("views-changelog", 1, 12)
    assert stored == [(TP("views-changelog", 1), 12)]


def test_get_answers_what_fausts_get_answers(table: OutboxTable) -> None:
    for partition in (0, 1):
        table.data._db_for_partition(partition)  # type: ignore[attr-defined]  # opened as on assignment
    value = VALUES[0]
    table.data._db_for_partition(1).put(table._key_bytes("o-1"), table._value_bytes(value))  # type: ignore[attr-defined]
    fausts = super(OutboxTable, table).get
    assert table.get("o-1") == fausts("o-1") == value
    assert table.get("missing") is fausts("missing") is None
    assert table.get("missing", "fallback") == fausts("missing", "fallback") == "fallback"


def test_a_table_with_a_default_factory_keeps_fausts_get(tmp_path: Path) -> None:
    app = build_app(Settings(data_dir=tmp_path, app_id="defaults"))
    counts = app.Table("counts", default=int, key_type=str, partitions=1)
    counts.data._db_for_partition(0)  # type: ignore[attr-defined]
    assert counts.get("missing", "fallback") == 0  # Faust's __missing__ gives default(), not the fallback
