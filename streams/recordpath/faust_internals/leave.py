"""A static group member that stops cleanly leaves the group (aiokafka sends no LeaveGroup for one).

aiokafka 0.14's ``GroupCoordinator._maybe_leave_group`` sends LeaveGroup v0/v1, which name a member id only,
and skips it for a static member (``group.instance.id``, ``streams.membership``): its partitions would stand
still for the session timeout after every clean stop, and ``streams replay`` would find the group active that
long.  ``leave_on_clean_stop`` has it send LeaveGroup v3 (Kafka 2.4+), which names the instance, then run
aiokafka's own (which sends nothing for a static member and forgets the generation).  Dynamic members are
unchanged.  Pinned in ``pins``.
"""

from __future__ import annotations

import logging
from typing import Any

from aiokafka.consumer.group_coordinator import GroupCoordinator
from aiokafka.protocol.api import Request, RequestStruct, Response
from aiokafka.protocol.types import Array, Int16, Int32, Schema, String

__all__ = ["StaticLeaveGroupRequest", "leave_on_clean_stop"]

log = logging.getLogger(__name__)


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
