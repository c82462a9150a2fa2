"""Ordering per key after a dead letter: which records of a key are parked, and when the key is free again.

Once a record of key K is dead-lettered, the later records of K must not be
applied before it (they may depend on it), so they are *parked*: written to
the dead-letter topic behind it, in order, unprocessed, while other keys keep
flowing.  Axon's sequenced dead-letter queue is the model.  Every record of K
put into the dead-letter topic gets the next number of K's sequence.

K is free again when

* a redrive sends K's records back and the last one of the run (marked
  ``dlq_redrive_last``) is applied while nothing newer of K was parked; or
* an operator releases K through a sequence number at least K's last one.

A redriven record of a parked key is processed (it is the queue being drained);
if one fails again, it is dead-lettered again and the rest of that run is parked
behind it, so order holds.  These are pure functions of the key's ``Parked``
state; the agent keeps that state in a changelog-backed table keyed by the
record key, so it survives restarts and moves with its partition.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from typing import Any

from streams.dlq.letters import RedriveMark

__all__ = ["Admission", "Parked", "admit", "after_dead_letter", "after_park", "after_release", "after_success"]

_KEEP_FAILED_RUNS = 20


class Admission(enum.Enum):
    PROCESS = "process"
    PARK = "park"


@dataclass(frozen=True, slots=True)
class Parked:
    """The dead-letter state of one key: present only while the key is parked."""

    sequence: int  # the last sequence number given to a record of this key in the dead-letter topic
    count: int  # records of this key set aside since it was parked (dead letters and parked records)
    since: str  # when the dead letter that parked the key was written
    head: str  # where that dead letter came from and why: "<topic>:<partition>:<offset> <error class>"
    failed_runs: tuple[str, ...] = ()  # redrive runs in which a record of this key failed again

    def to_json(self) -> dict[str, Any]:
        return {"sequence": self.sequence, "count": self.count, "since": self.since, "head": self.head,
                "failed_runs": list(self.failed_runs)}

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Parked:
        return cls(sequence=int(body["sequence"]), count=int(body["count"]), since=str(body["since"]),
                   head=str(body["head"]), failed_runs=tuple(body.get("failed_runs", ())))


def admit(parked: Parked | None, mark: RedriveMark | None) -> Admission:
    """Process the record, or park it behind its key's dead letters."""
    if parked is None:
        return Admission.PROCESS
    if mark is None or mark.redrive_id in parked.failed_runs:
        return Admission.PARK
    return Admission.PROCESS


def after_dead_letter(parked: Parked | None, *, head: str, now: str, mark: RedriveMark | None) -> Parked:
    """The key's state once one of its records is dead-lettered (the letter gets ``result.sequence``)."""
    if parked is None:  # a redriven record of a key that was not parked (released): its run failed too
        return Parked(sequence=1, count=1, since=now, head=head, failed_runs=(mark.redrive_id,) if mark else ())
    failed = parked.failed_runs
    if mark is not None and mark.redrive_id not in failed:
        failed = (*failed, mark.redrive_id)[-_KEEP_FAILED_RUNS:]
    return replace(parked, sequence=parked.sequence + 1, count=parked.count + 1, failed_runs=failed)


def after_park(parked: Parked) -> Parked:
    """The key's state once one more of its records is parked (it gets ``result.sequence``)."""
    return replace(parked, sequence=parked.sequence + 1, count=parked.count + 1)


def after_success(parked: Parked | None, mark: RedriveMark | None) -> Parked | None:
    """The key's state once a record was applied: free (``None``) when it ended a complete redrive."""
    if parked is None or mark is None or not mark.last or mark.sequence is None:
        return parked
    return None if mark.sequence >= parked.sequence else parked


def after_release(parked: Parked | None, through_sequence: int | None) -> Parked | None:
    """An operator's release: free unless records newer than ``through_sequence`` were parked since."""
    if parked is None:
        return None
    if through_sequence is not None and through_sequence < parked.sequence:
        return parked
    return None
