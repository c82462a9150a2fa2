"""How a worker belongs to its consumer group: its static instance id and its heartbeat.

Without a static id, a worker killed with SIGKILL stays a member until the group's session timeout expires (it
never said goodbye); restarted before that, it joins as a new member, and the group still waits for the dead one
before it can hand anything out: its partitions stand still for the whole session timeout either way.  With a
static id (KIP-345, ``group.instance.id``), the restarted worker is recognised as the member it was and takes its
partitions back as soon as it joins; the others keep theirs.

The id must survive a restart and differ between workers, so by default it is made on a worker's first start and
kept in its data dir, which is per worker and outlives the process (its RocksDB stores live there too).  A copy
of a data dir copies the id: two workers with one id fence each other, so delete ``INSTANCE_ID_FILE`` in a copy.

A worker that stops cleanly still leaves the group, as without a static id: aiokafka sends no LeaveGroup for a
static member (its partitions would stand still for the session timeout, and ``streams replay`` would find the
group active that long), so ``leave_on_clean_stop`` has it send LeaveGroup v3 (Kafka 2.4+), which names the
instance.  A stop for a quick restart then moves partitions twice, as it always did; what static membership
speeds up is the return of a worker that died.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
from typing import Any

from aiokafka.consumer.group_coordinator import GroupCoordinator
from aiokafka.protocol.api import Request, RequestStruct, Response
from aiokafka.protocol.types import Array, Int16, Int32, Schema, String

from streams.settings import Settings

__all__ = ["INSTANCE_ID_FILE", "heartbeat_interval_s", "instance_id", "leave_on_clean_stop"]

log = logging.getLogger(__name__)

INSTANCE_ID_FILE = "group-instance-id"
_LEGAL = re.compile(r"^[A-Za-z0-9._-]{1,249}$")  # Kafka's rule for group.instance.id


def instance_id(settings: Settings, app_id: str | None = None) -> str | None:
    """The worker's static membership id: ``STREAMS_INSTANCE_ID``, else the one kept in the data dir (made now,
    ``<app id>-<8 hex>``, if there is none yet); ``None`` when the setting is empty (dynamic membership).

    The kept id goes with the address the worker serves HTTP on: a worker restarted on another address gets a new
    id.  A static member that comes back to a stable group is handed its assignment without a rebalance, and so
    without the other workers learning its new address (the assignor's metadata): they would route reads of its
    keys to the old one until the next rebalance.
    """
    if settings.instance_id is not None:
        return settings.instance_id or None
    path = settings.data_dir.resolve() / INSTANCE_ID_FILE
    address = f"{settings.web_host}:{settings.web_port}"
    try:
        kept = path.read_text().split()
    except FileNotFoundError:
        kept = []
    if len(kept) == 2 and _LEGAL.match(kept[0]) and kept[1] == address:
        return kept[0]
    made = f"{re.sub(r'[^A-Za-z0-9._-]', '-', app_id or settings.app_id)[:200]}-{secrets.token_hex(4)}"
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{INSTANCE_ID_FILE}.{os.getpid()}")
    partial.write_text(f"{made}\n{address}\n")
    partial.replace(path)  # atomic: a worker killed while writing leaves no half id behind
    return made


def heartbeat_interval_s(settings: Settings) -> float:
    """``STREAMS_HEARTBEAT_INTERVAL_S``, else a third of the session timeout (the Kafka client's own ratio), at most
    3 s: a worker that died is noticed by its missing heartbeats, several of which fit in a session timeout."""
    if settings.heartbeat_interval_s is not None:
        return settings.heartbeat_interval_s
    return min(settings.session_timeout_s / 3, 3.0)


class _LeaveGroupResponseV3(Response):  # type: ignore[misc]  # aiokafka is untyped here
    API_KEY = 13
    API_VERSION = 3
    SCHEMA = Schema(("throttle_time_ms", Int32), ("error_code", Int16),
                    ("members", Array(("member_id", String("utf-8")), ("group_instance_id", String("utf-8")),
                                      ("error_code", Int16))))


class _LeaveGroupRequestV3(RequestStruct):  # type: ignore[misc]
    API_KEY = 13
    API_VERSION = 3
    RESPONSE_TYPE = _LeaveGroupResponseV3
    SCHEMA = Schema(("group", String("utf-8")),
                    ("members", Array(("member_id", String("utf-8")), ("group_instance_id", String("utf-8")))))


class StaticLeaveGroupRequest(Request[_LeaveGroupRequestV3]):  # type: ignore[misc]
    """LeaveGroup for one static member (v3, the first version that names an instance; aiokafka has v0 and v1)."""

    API_KEY = 13

    def __init__(self, group: str, member_id: str, instance: str) -> None:
        self.group, self.member_id, self.instance = group, member_id, instance

    def build(self, request_struct_class: type[_LeaveGroupRequestV3]) -> _LeaveGroupRequestV3:
        return request_struct_class(self.group, [(self.member_id, self.instance)])


_dynamic_leave = GroupCoordinator._maybe_leave_group


async def _maybe_leave_group(self: Any) -> None:
    """aiokafka's leave as the consumer stops, for a static member too (see the module's docstring)."""
    if self.generation > 0 and self._group_instance_id is not None:
        try:
            response = await self._send_req(StaticLeaveGroupRequest(self.group_id, self.member_id,
                                                                    self._group_instance_id))
        except Exception as exc:  # noqa: BLE001  # a broker older than 2.4, or gone: nothing more to do
            log.warning("could not leave the group as instance %s (%s): its partitions move after the session "
                        "timeout", self._group_instance_id, exc)
        else:
            errors = [response.error_code, *(member[2] for member in response.members)]
            if any(errors):
                log.warning("LeaveGroup of instance %s answered error codes %s: its partitions move after the "
                            "session timeout", self._group_instance_id, errors)
            else:
                log.info("left the group as instance %s", self._group_instance_id)
    await _dynamic_leave(self)  # sends nothing for a static member; forgets the generation


def leave_on_clean_stop() -> None:
    """Install the static member's leave in aiokafka's group coordinator (idempotent; dynamic members unchanged)."""
    GroupCoordinator._maybe_leave_group = _maybe_leave_group
