from datetime import UTC, datetime
from typing import Any

import pytest

from streams.cli.replay_cmd import _reset, _table
from streams.errors import ConfigError, ValidationError
from streams.replay import Move, Reset, ResetKind

NONE: dict[str, Any] = {"to_earliest": False, "to_latest": False, "to_datetime": None, "to_offset": None,
                        "shift_by": None}


def reset(**given: Any) -> Reset:
    return _reset(**{**NONE, **given})


@pytest.mark.parametrize(("given", "expected"), [
    ({"to_earliest": True}, Reset(ResetKind.EARLIEST)),
    ({"to_latest": True}, Reset(ResetKind.LATEST)),
    ({"to_offset": 42}, Reset(ResetKind.OFFSET, offset=42)),
    ({"to_offset": 0}, Reset(ResetKind.OFFSET, offset=0)),          # 0 is given, not missing
    ({"shift_by": -5}, Reset(ResetKind.SHIFT, offset=-5)),
    ({"shift_by": 7}, Reset(ResetKind.SHIFT, offset=7)),
    ({"shift_by": 0}, Reset(ResetKind.SHIFT, offset=0)),
    ({"to_datetime": "2026-11-22T10:00:00Z"},
     Reset(ResetKind.DATETIME, at=datetime(2026, 11, 22, 10, tzinfo=UTC))),
    ({"to_datetime": "2026-11-22T12:00:00+02:00"},
     Reset(ResetKind.DATETIME, at=datetime(2026, 11, 22, 10, tzinfo=UTC))),
])
def test_each_option_maps_to_its_reset(given: dict[str, Any], expected: Reset) -> None:
    got = reset(**given)
    assert got == expected
    assert got.kind is expected.kind


def test_to_datetime_is_aware() -> None:
    at = reset(to_datetime="2026-11-22T10:00:00").at
    assert at is not None
    assert at.utcoffset() is not None


def test_bad_datetime_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match="ISO 8601"):
        reset(to_datetime="soon")


def test_no_option_is_an_error() -> None:
    with pytest.raises(ConfigError, match=r"exactly one.*\(got none\)") as caught:
        reset()
    assert caught.value.hint


@pytest.mark.parametrize(("given", "listed"), [
    ({"to_earliest": True, "to_latest": True}, "--to-earliest, --to-latest"),
    ({"to_offset": 0, "shift_by": 0}, "--to-offset, --shift-by"),
    ({"to_latest": True, "to_datetime": "2026-01-01"}, "--to-latest, --to-datetime"),
    ({"to_earliest": True, "to_latest": True, "to_datetime": "x", "to_offset": 1, "shift_by": 1},
     "--to-earliest, --to-latest, --to-datetime, --to-offset, --shift-by"),
])
def test_more_than_one_option_lists_what_was_given(given: dict[str, Any], listed: str) -> None:
    with pytest.raises(ConfigError) as caught:
        reset(**given)
    assert caught.value.message.endswith(f"(got {listed})")


def test_table_rows() -> None:
    moves = [Move("orders", 0, 1500, 100, 100, 2000), Move("orders", 1, None, 0, 0, 10),
             Move("orders", 2, 5, 9, 0, 10)]
    table = _table("app", "orders", Reset(ResetKind.EARLIEST), moves, dry_run=True)
    assert table.title == "Would reset app --to-earliest"
    columns = {c.header: list(c.cells) for c in table.columns}
    assert columns["committed now"] == ["1,500", "-", "5"]
    assert columns["after"] == ["100", "0", "9"]
    assert columns["records to replay"] == ["1,400", "", ""]  # forward moves and fresh partitions replay nothing
    executing = _table("app", "orders", Reset(ResetKind.SHIFT, offset=-1), moves, dry_run=False)
    assert executing.title == "Resetting app --shift-by -1"
