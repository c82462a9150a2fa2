"""Per-key parking as pure functions: admission, sequence numbers, when a key is free again."""

import json

import pytest

from streams.dlq.letters import RedriveMark
from streams.dlq.parking import (
    Admission,
    Parked,
    admit,
    after_dead_letter,
    after_park,
    after_release,
    after_success,
)

HEAD = "orders:0:7 ValidationError"
NOW = "2026-11-22T10:30:00.000Z"
PARKED = Parked(sequence=3, count=3, since=NOW, head=HEAD)


def mark(run: str = "run-1", sequence: int | None = 3, *, last: bool = False) -> RedriveMark:
    return RedriveMark(redrive_id=run, sequence=sequence, last=last)


def test_a_key_that_is_not_parked_is_processed() -> None:
    assert admit(None, None) is Admission.PROCESS
    assert admit(None, mark()) is Admission.PROCESS


def test_a_live_record_of_a_parked_key_is_parked() -> None:
    assert admit(PARKED, None) is Admission.PARK


def test_a_redriven_record_of_a_parked_key_is_processed_unless_its_run_already_failed() -> None:
    assert admit(PARKED, mark("run-2")) is Admission.PROCESS
    failed = Parked(sequence=3, count=3, since=NOW, head=HEAD, failed_runs=("run-1",))
    assert admit(failed, mark("run-1")) is Admission.PARK
    assert admit(failed, mark("run-2")) is Admission.PROCESS


def test_the_first_dead_letter_parks_the_key_with_sequence_one() -> None:
    assert after_dead_letter(None, head=HEAD, now=NOW, mark=None) == Parked(sequence=1, count=1, since=NOW, head=HEAD)


def test_a_later_dead_letter_takes_the_next_sequence_and_keeps_where_the_key_was_parked() -> None:
    after = after_dead_letter(PARKED, head="orders:0:99 DecodeError", now="later", mark=None)
    assert after == Parked(sequence=4, count=4, since=NOW, head=HEAD)


def test_a_redriven_record_that_fails_again_records_its_run_once() -> None:
    once = after_dead_letter(PARKED, head="x", now="later", mark=mark("run-1"))
    assert once.failed_runs == ("run-1",)
    twice = after_dead_letter(once, head="x", now="later", mark=mark("run-1"))
    assert twice.failed_runs == ("run-1",)
    assert twice.sequence == 5
    assert after_dead_letter(twice, head="x", now="later", mark=mark("run-2")).failed_runs == ("run-1", "run-2")


def test_failed_runs_are_bounded_to_the_most_recent() -> None:
    state = PARKED
    for n in range(25):
        state = after_dead_letter(state, head="x", now="later", mark=mark(f"run-{n}"))
    assert state.failed_runs == tuple(f"run-{n}" for n in range(5, 25))
    assert state.sequence == PARKED.sequence + 25
    assert admit(state, mark("run-24")) is Admission.PARK


def test_parking_a_record_takes_the_next_sequence() -> None:
    assert after_park(PARKED) == Parked(sequence=4, count=4, since=NOW, head=HEAD)


@pytest.mark.parametrize("redrive", [None, mark(last=False), mark(sequence=None, last=True),
                                     mark(sequence=2, last=True)])
def test_a_success_that_does_not_end_a_complete_redrive_leaves_the_key_parked(redrive: RedriveMark | None) -> None:
    assert after_success(PARKED, redrive) == PARKED


@pytest.mark.parametrize("sequence", [3, 4])
def test_the_last_record_of_a_redrive_through_the_last_sequence_frees_the_key(sequence: int) -> None:
    assert after_success(PARKED, mark(sequence=sequence, last=True)) is None


def test_a_success_of_a_key_that_is_not_parked_stays_free() -> None:
    assert after_success(None, mark(last=True)) is None
    assert after_success(None, None) is None


@pytest.mark.parametrize(("through", "freed"), [(None, True), (3, True), (10, True), (2, False), (0, False)])
def test_a_release_frees_the_key_unless_newer_records_were_parked(through: int | None, freed: bool) -> None:
    assert after_release(PARKED, through) == (None if freed else PARKED)


def test_releasing_a_free_key_is_a_no_op() -> None:
    assert after_release(None, 1) is None
    assert after_release(None, None) is None


def test_the_state_round_trips_through_json() -> None:
    state = Parked(sequence=7, count=5, since=NOW, head=HEAD, failed_runs=("run-1", "run-2"))
    body = json.loads(json.dumps(state.to_json()))  # as a JSON changelog stores it
    assert Parked.from_json(body) == state


def test_a_state_written_without_failed_runs_reads_back() -> None:
    body = {"sequence": 2, "count": 2, "since": NOW, "head": HEAD}
    assert Parked.from_json(body) == Parked(sequence=2, count=2, since=NOW, head=HEAD)


def test_a_redriven_record_that_fails_on_a_key_no_longer_parked_records_its_run() -> None:
    state = after_dead_letter(None, head=HEAD, now=NOW, mark=mark("run-1"))
    assert state == Parked(sequence=1, count=1, since=NOW, head=HEAD, failed_runs=("run-1",))
    assert admit(state, mark("run-1")) is Admission.PARK  # the rest of that run waits behind it
