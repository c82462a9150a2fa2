"""``?after=<partition>:<offset>``: a position the topic can have, or a 400 at once (never a wait, never a 500)."""

from __future__ import annotations

import pytest

from streams.errors import BadRequestError
from streams.position import MAX_OFFSET, Position, parse_after


def test_what_post_events_returns_is_read_back() -> None:
    assert parse_after(Position("orders", 3, 1041).token, partitions=4) == (3, 1041)


def test_a_position_is_two_whole_numbers() -> None:
    assert parse_after("3:1041", partitions=4) == (3, 1041)
    assert parse_after(f"0:{MAX_OFFSET}", partitions=1) == (0, MAX_OFFSET)


def test_a_partition_the_topic_does_not_have_is_refused_naming_those_it_has() -> None:
    with pytest.raises(BadRequestError) as info:
        parse_after("9:1", partitions=4)
    assert "no partition 9" in info.value.message
    assert "0 to 3" in info.value.message
    assert info.value.http_status == 400


@pytest.mark.parametrize("value", [
    "", "-1:5", "1:-5", "abc", "1", "1:", ":1", "a:1", "1:2:3", " 1:2", "1.0:2", "1:2e3",
    "\u00b2:1", "1:\u0661",  # digits to str.isdigit (superscript two, Arabic-Indic one), not ASCII
    "1:" + "9" * 5000,  # past int()'s digit limit
    "1:" + "9" * 20, "1" * 11 + ":1",
])
def test_what_cannot_be_a_position_is_a_400(value: str) -> None:
    with pytest.raises(BadRequestError) as info:
        parse_after(value, partitions=4)
    assert len(info.value.message) < 200


def test_an_offset_past_what_kafka_numbers_is_a_400() -> None:
    with pytest.raises(BadRequestError, match="largest Kafka offset"):
        parse_after(f"0:{MAX_OFFSET + 1}", partitions=4)
