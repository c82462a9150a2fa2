import time
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.errors import ConfigError, ValidationError
from streams.replay import Move, Reset, ResetKind, parse_datetime, parse_topic, plan

TP = ("orders", 0)
AT = datetime(2026, 1, 1, tzinfo=UTC)


def one(reset: Reset, *, committed: int | None, start: int = 100, end: int = 200,
        at_time: int | None = None) -> Move:
    """Plan a single partition ``orders:0`` with log [start, end] and return its move."""
    moves = plan(reset, [TP], committed={TP: committed}, log_start={TP: start}, log_end={TP: end},
                 at_time={TP: at_time})
    assert len(moves) == 1
    return moves[0]


@pytest.mark.parametrize(("reset", "committed", "at_time", "expected"), [
    (Reset(ResetKind.EARLIEST), 150, None, 100),
    (Reset(ResetKind.EARLIEST), None, None, 100),
    (Reset(ResetKind.LATEST), 150, None, 200),
    (Reset(ResetKind.LATEST), None, None, 200),
    (Reset(ResetKind.OFFSET, offset=5), 150, None, 100),       # below log start: clamped to start
    (Reset(ResetKind.OFFSET, offset=-1), 150, None, 100),
    (Reset(ResetKind.OFFSET, offset=999), 150, None, 200),     # past log end: clamped to end
    (Reset(ResetKind.OFFSET, offset=130), 150, None, 130),     # inside: stays
    (Reset(ResetKind.OFFSET, offset=100), 150, None, 100),     # the bounds themselves are valid
    (Reset(ResetKind.OFFSET, offset=200), 150, None, 200),
    (Reset(ResetKind.OFFSET, offset=130), None, None, 130),    # no committed offset needed
    (Reset(ResetKind.SHIFT, offset=20), 150, None, 170),
    (Reset(ResetKind.SHIFT, offset=-20), 150, None, 130),
    (Reset(ResetKind.SHIFT, offset=0), 150, None, 150),
    (Reset(ResetKind.SHIFT, offset=80), 150, None, 200),       # past log end: clamped
    (Reset(ResetKind.SHIFT, offset=-80), 150, None, 100),      # before log start: clamped
    (Reset(ResetKind.SHIFT, offset=-10), 50, None, 100),       # committed already below start (retention)
    (Reset(ResetKind.DATETIME, at=AT), 150, 120, 120),         # first offset at or after the time
    (Reset(ResetKind.DATETIME, at=AT), None, 120, 120),
    (Reset(ResetKind.DATETIME, at=AT), 150, None, 200),        # nothing that late: log end
    (Reset(ResetKind.DATETIME, at=AT), 150, -1, 200),          # librdkafka's "none" is -1
])
def test_reset_rules(reset: Reset, committed: int | None, at_time: int | None, expected: int) -> None:
    move = one(reset, committed=committed, at_time=at_time)
    assert move == Move("orders", 0, committed, expected, 100, 200)


def test_to_datetime_without_the_lookup_is_a_caller_error_not_a_silent_to_latest() -> None:
    with pytest.raises(ValueError, match="to-datetime"):
        plan(Reset(ResetKind.DATETIME, at=AT), [TP], committed={TP: 150}, log_start={TP: 100}, log_end={TP: 200})


def test_shift_without_a_committed_offset_names_the_partition() -> None:
    partitions = [("orders", 0), ("orders", 7)]
    with pytest.raises(ConfigError, match="orders:7") as caught:
        plan(Reset(ResetKind.SHIFT, offset=-5), partitions, committed={("orders", 0): 50},
             log_start=dict.fromkeys(partitions, 0), log_end=dict.fromkeys(partitions, 100))
    assert "orders:0" not in caught.value.message
    assert caught.value.hint


def test_shift_treats_a_missing_key_like_no_commit() -> None:
    with pytest.raises(ConfigError, match="orders:0"):
        plan(Reset(ResetKind.SHIFT, offset=1), [TP], committed={}, log_start={TP: 0}, log_end={TP: 10})


def test_moves_are_sorted_by_topic_then_partition() -> None:
    partitions = [("b", 1), ("a", 10), ("b", 0), ("a", 2)]
    moves = plan(Reset(ResetKind.EARLIEST), partitions, committed={}, log_start=dict.fromkeys(partitions, 0),
                 log_end=dict.fromkeys(partitions, 5))
    assert [(m.topic, m.partition) for m in moves] == [("a", 2), ("a", 10), ("b", 0), ("b", 1)]


def test_each_partition_keeps_its_own_bounds_and_committed_offset() -> None:
    p0, p1 = ("t", 0), ("t", 1)
    moves = plan(Reset(ResetKind.SHIFT, offset=-10), [p1, p0], committed={p0: 15, p1: 40},
                 log_start={p0: 10, p1: 0}, log_end={p0: 20, p1: 50})
    assert moves == [Move("t", 0, 15, 10, 10, 20), Move("t", 1, 40, 30, 0, 50)]


@pytest.mark.parametrize(("before", "after", "changes"), [
    (5, 5, False),
    (5, 6, True),
    (None, 0, True),  # never committed: any reset commits something new
])
def test_move_changes(before: int | None, after: int, changes: bool) -> None:
    assert Move("t", 0, before, after, 0, 10).changes is changes


def test_move_to_json() -> None:
    assert Move("t", 3, None, 4, 1, 9).to_json() == {"topic": "t", "partition": 3, "before": None, "after": 4,
                                                     "log_start": 1, "log_end": 9}


@pytest.mark.parametrize(("reset", "text"), [
    (Reset(ResetKind.EARLIEST), "--to-earliest"),
    (Reset(ResetKind.SHIFT, offset=-3), "--shift-by -3"),
    (Reset(ResetKind.OFFSET, offset=0), "--to-offset 0"),
    (Reset(ResetKind.DATETIME, at=AT), "--to-datetime 2026-01-01T00:00:00+00:00"),
])
def test_describe(reset: Reset, text: str) -> None:
    assert reset.describe() == text


@pytest.mark.parametrize(("spec", "expected"), [
    ("orders", ("orders", None)),
    ("orders:0,1,2", ("orders", [0, 1, 2])),
    ("orders:2,0,2", ("orders", [0, 2])),
    ("orders:5", ("orders", [5])),
    ("orders:1, 3", ("orders", [1, 3])),
])
def test_parse_topic(spec: str, expected: tuple[str, list[int] | None]) -> None:
    assert parse_topic(spec) == expected


@pytest.mark.parametrize(("spec", "message"), [
    (":1", "no topic name"),
    ("", "no topic name"),
    ("orders:a", "must be numbers"),
    ("orders:1,x", "must be numbers"),
    ("orders:", "0 or more"),
    ("orders:,", "0 or more"),
    ("orders:-1", "0 or more"),
    ("orders:3,-1", "0 or more"),
])
def test_parse_topic_errors(spec: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        parse_topic(spec)


@pytest.mark.parametrize(("value", "expected"), [
    ("2026-11-22T10:00:00Z", datetime(2026, 11, 22, 10, tzinfo=UTC)),
    ("2026-11-22T10:00:00+02:00", datetime(2026, 11, 22, 10, tzinfo=timezone(timedelta(hours=2)))),
    ("2026-11-22T10:00:00", datetime(2026, 11, 22, 10, tzinfo=UTC)),  # naive: UTC, not local time
    ("2026-11-22", datetime(2026, 11, 22, tzinfo=UTC)),
])
def test_parse_datetime(value: str, expected: datetime) -> None:
    parsed = parse_datetime(value)
    assert parsed == expected
    assert parsed.utcoffset() == expected.utcoffset()


def test_parse_datetime_naive_is_utc_whatever_the_local_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "XXX+05")  # POSIX: five hours west of UTC, no tz database needed
    time.tzset()
    try:
        assert parse_datetime("2026-11-22T10:00:00") == datetime(2026, 11, 22, 10, tzinfo=UTC)
    finally:
        monkeypatch.undo()
        time.tzset()


def test_parse_datetime_with_offset_is_the_same_instant() -> None:
    assert parse_datetime("2026-11-22T12:00:00+02:00") == parse_datetime("2026-11-22T10:00:00Z")


@pytest.mark.parametrize("value", ["yesterday", "", "2026-13-01T00:00:00Z", "10:00", "2026-11-22T25:00:00Z"])
def test_parse_datetime_rejects_garbage(value: str) -> None:
    with pytest.raises(ValidationError, match="ISO 8601"):
        parse_datetime(value)


@st.composite
def logs(draw: st.DrawFn) -> tuple[int, int, int]:
    """(log start, log end, committed) with start <= committed <= end."""
    start = draw(st.integers(min_value=0, max_value=10**12))
    end = draw(st.integers(min_value=start, max_value=start + 10**6))
    committed = draw(st.integers(min_value=start, max_value=end))
    return start, end, committed


@settings(deadline=None)  # trivial work; a busy CI box must not turn into a flaky deadline
@given(log=logs(), n=st.integers(min_value=-(10**13), max_value=10**13),
       kind=st.sampled_from([ResetKind.OFFSET, ResetKind.SHIFT]))
def test_offset_and_shift_always_land_inside_the_log(log: tuple[int, int, int], n: int, kind: ResetKind) -> None:
    start, end, committed = log
    move = one(Reset(kind, offset=n), committed=committed, start=start, end=end)
    assert start <= move.after <= end
    target = n if kind is ResetKind.OFFSET else committed + n
    if start <= target <= end:
        assert move.after == target
    assert (move.before, move.log_start, move.log_end) == (committed, start, end)
