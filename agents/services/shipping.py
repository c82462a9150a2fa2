"""The simulated shipping service: CreateShipment in, ShipmentCreated or ShipmentFailed out.  Pure.

A share of shipments fails (the failure rate, decided by the command id: ``chance``); the others are created with
carrier ``SIM``, a ``shipment_id`` and a tracking number both derived from the command id.

State: the replies given, by command id (records keyed by order id).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from agents.services.base import Command, Replies, Reply, chance, epoch_ms, reference, remembered
from agents.settings import OrderSettings

__all__ = ["CARRIER", "COMMANDS", "NO_CARRIER", "ShippingPolicy", "handle", "tracking_number"]

COMMANDS = ("CreateShipment",)

CARRIER = "SIM"
NO_CARRIER = "no carrier can take the parcel (simulated)"


@dataclass(frozen=True, slots=True)
class ShippingPolicy:
    failure_rate: float = 0.0

    @classmethod
    def from_settings(cls, settings: OrderSettings) -> ShippingPolicy:
        return cls(failure_rate=settings.sim_shipping_failure_rate)


def tracking_number(command_id: str) -> str:
    """``SIM`` and 12 digits, fixed by the command id."""
    digits = int.from_bytes(hashlib.sha256(f"tracking/{command_id}".encode()).digest()[:8], "big") % 10**12
    return f"{CARRIER}{digits:012d}"


def handle(state: Replies, command: Command, policy: ShippingPolicy, now: datetime) -> tuple[Replies, Reply]:
    """The reply to ``command`` and the state that remembers it; a command seen before gets its reply again."""
    before = remembered(state.replies, command)
    if before is not None:
        return state, before
    if command.name != "CreateShipment":
        raise ValueError(f"the shipping service does not take {command.name}")  # the decoder reads only COMMANDS
    at = epoch_ms(now)
    if chance(command.command_id, "shipment") < policy.failure_rate:
        reply = Reply("ShipmentFailed", {"order_id": command.order_id, "reason": NO_CARRIER, "failed_at": at}, at,
                      "failed")
    else:
        reply = Reply("ShipmentCreated", {"order_id": command.order_id,
                                          "shipment_id": reference("shp", command.command_id), "carrier": CARRIER,
                                          "tracking_number": tracking_number(command.command_id),
                                          "created_at": at}, at, "created")
    return state.remember(command, reply), reply
