"""The simulated shipping service's pure handler: created or failed by rate, idempotent by command id."""

from __future__ import annotations

import re
import uuid
from dataclasses import replace
from datetime import timedelta

import pytest

from agents.services.base import Command, Replies, epoch_ms
from agents.services.shipping import CARRIER, NO_CARRIER, ShippingPolicy, handle, tracking_number
from tests.support import NOW


def create(command_id: str | None = None) -> Command:
    return Command(command_id or str(uuid.uuid4()), "CreateShipment",
                   {"order_id": "o-1", "customer_id": "c-1", "lines": [{"sku": "sku-a", "quantity": 2}]})


def test_a_shipment_is_created_with_ids_derived_from_the_command_id() -> None:
    command = create()
    state, reply = handle(Replies(), command, ShippingPolicy(), NOW)
    assert (reply.event_type, reply.outcome) == ("ShipmentCreated", "created")
    assert reply.fields == {"order_id": "o-1", "shipment_id": reply.fields["shipment_id"], "carrier": CARRIER,
                            "tracking_number": tracking_number(command.command_id), "created_at": epoch_ms(NOW)}
    assert CARRIER == "SIM"
    assert reply.fields["shipment_id"].startswith("shp-")
    assert re.fullmatch(r"SIM\d{12}", reply.fields["tracking_number"])
    other = handle(Replies(), create(), ShippingPolicy(), NOW)[1]
    assert other.fields["shipment_id"] != reply.fields["shipment_id"]
    assert other.fields["tracking_number"] != reply.fields["tracking_number"]
    assert handle(Replies(), command, ShippingPolicy(), NOW)[1] == reply  # the same command, the same ids
    assert state.replies == {command.command_id: reply}


def test_a_command_seen_again_gets_the_same_reply_and_changes_nothing() -> None:
    command = create()
    state, first = handle(Replies(), command, ShippingPolicy(), NOW)
    again, second = handle(state, command, ShippingPolicy(failure_rate=1.0), NOW + timedelta(minutes=1))
    assert again is state
    assert second.repeated
    assert replace(second, repeated=False) == first


def test_failures_by_rate_are_decided_by_the_command_id() -> None:
    ids = [str(uuid.uuid5(uuid.NAMESPACE_URL, f"ship/{i}")) for i in range(1000)]

    def failed(rate: float) -> set[str]:
        return {i for i in ids if handle(Replies(), create(i), ShippingPolicy(failure_rate=rate), NOW)[1].event_type
                == "ShipmentFailed"}

    assert failed(0.0) == set()
    assert failed(1.0) == set(ids)
    half = failed(0.5)
    assert 400 < len(half) < 600
    assert half == failed(0.5)
    assert half > failed(0.1)
    _, reply = handle(Replies(), create(next(iter(half))), ShippingPolicy(failure_rate=0.5), NOW)
    assert (reply.outcome, reply.fields) == ("failed", {"order_id": "o-1", "reason": NO_CARRIER,
                                                        "failed_at": epoch_ms(NOW)})


def test_a_command_of_another_service_is_refused() -> None:
    with pytest.raises(ValueError, match="does not take AuthorizePayment"):
        handle(Replies(), Command(str(uuid.uuid4()), "AuthorizePayment", {"order_id": "o-1"}), ShippingPolicy(), NOW)
