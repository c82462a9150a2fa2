"""``streams.recordpath.agent.RawSchema``: events made from a record carry its bytes, as with Faust's raw serializer."""

from __future__ import annotations

from pathlib import Path

import pytest
from faust.types import Message

from streams.app import build_app
from streams.recordpath.agent import RawSchema
from streams.settings import Settings


@pytest.mark.parametrize(("key", "value"), [(b"k-1", b"\x00\x00\x00\x00\x01avro"), (None, None), (b"k", b"")])
async def test_events_carry_the_record_bytes_like_faust_raw(tmp_path: Path, key: bytes | None,
                                                            value: bytes | None) -> None:
    app = build_app(Settings(data_dir=tmp_path, app_id="raw"))
    message = Message("orders", 0, 7, 0.0, 0, [("event_type", b"OrderPlaced")], key, value, None)
    ours = await RawSchema().decode(app, message)
    faust_raw = await app.topic("orders", key_type=bytes, value_type=bytes, key_serializer="raw",
                                value_serializer="raw").decode(message)
    assert (ours.key, ours.value) == (key, value)
    assert (faust_raw.key, faust_raw.value) == (key, value)
    assert ours.message is message
