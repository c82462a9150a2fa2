"""The simulated payment service's pure handler: every answer, idempotency by command id, failure by rate."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from agents.services.base import Command, Replies, chance, epoch_ms
from agents.services.payments import OVER_LIMIT, PaymentPolicy, handle
from tests.support import NOW


def authorize(amount: int = 1250, command_id: str | None = None, order_id: str = "o-1") -> Command:
    return Command(command_id or str(uuid.uuid4()), "AuthorizePayment",
                   {"order_id": order_id, "customer_id": "c-1", "amount_minor": amount, "currency": "EUR"})


def refund(payment_id: str = "pay-1", amount: int = 1250, command_id: str | None = None) -> Command:
    return Command(command_id or str(uuid.uuid4()), "RefundPayment",
                   {"order_id": "o-1", "payment_id": payment_id, "amount_minor": amount, "currency": "EUR",
                    "reason": "out of stock"})


def test_an_amount_within_the_limit_is_authorized_with_a_payment_id_derived_from_the_command_id() -> None:
    command = authorize(1250)
    state, reply = handle(Replies(), command, PaymentPolicy(limit_minor=1250), NOW)
    assert (reply.event_type, reply.outcome) == ("PaymentAuthorized", "authorized")
    payment_id = reply.fields["payment_id"]
    assert reply.fields == {"order_id": "o-1", "payment_id": payment_id, "amount_minor": 1250, "currency": "EUR",
                            "authorized_at": epoch_ms(NOW)}
    assert payment_id.startswith("pay-")
    assert handle(Replies(), command, PaymentPolicy(), NOW + timedelta(hours=1))[1].fields["payment_id"] == payment_id
    assert handle(Replies(), authorize(1250), PaymentPolicy(), NOW)[1].fields["payment_id"] != payment_id
    assert state.replies == {command.command_id: reply}
    assert not reply.repeated


def test_an_amount_over_the_limit_is_declined() -> None:
    state, reply = handle(Replies(), authorize(1251), PaymentPolicy(limit_minor=1250), NOW)
    assert (reply.event_type, reply.outcome) == ("PaymentFailed", "over_limit")
    assert reply.fields == {"order_id": "o-1", "reason": OVER_LIMIT, "failed_at": epoch_ms(NOW)}
    assert OVER_LIMIT == "declined: over the limit"
    assert len(state.replies) == 1


def test_a_refund_refunds_the_payment_the_command_names() -> None:
    _, reply = handle(Replies(), refund("pay-77", 900), PaymentPolicy(failure_rate=1.0, limit_minor=0), NOW)
    assert (reply.event_type, reply.outcome) == ("PaymentRefunded", "refunded")  # never declined, whatever the knobs
    assert reply.fields == {"order_id": "o-1", "payment_id": "pay-77", "amount_minor": 900, "currency": "EUR",
                            "refunded_at": epoch_ms(NOW)}


@pytest.mark.parametrize("make", [authorize, refund])
def test_a_command_seen_again_gets_the_same_reply_and_changes_nothing(make: Any) -> None:
    command = make()
    state, first = handle(Replies(), command, PaymentPolicy(), NOW)
    # later, with knobs that would now decide otherwise: the reply given is the reply
    again, second = handle(state, command, PaymentPolicy(limit_minor=0, failure_rate=1.0), NOW + timedelta(minutes=5))
    assert again is state
    assert second.repeated
    assert replace(second, repeated=False) == first


def test_failures_by_rate_are_decided_by_the_command_id() -> None:
    ids = [str(uuid.uuid5(uuid.NAMESPACE_URL, f"cmd/{i}")) for i in range(2000)]

    def failed(rate: float) -> set[str]:
        return {i for i in ids
                if handle(Replies(), authorize(command_id=i), PaymentPolicy(failure_rate=rate), NOW)[1].event_type
                == "PaymentFailed"}

    assert failed(0.0) == set()
    assert failed(1.0) == set(ids)
    quarter = failed(0.25)
    assert 400 < len(quarter) < 600  # 500 expected; the hash spreads ids evenly
    assert quarter == failed(0.25)  # the same ids every time
    assert quarter < failed(0.5)  # a higher rate fails the same ids and more
    assert quarter == {i for i in ids if chance(i, "payment") < 0.25}
    reasons = {handle(Replies(), authorize(command_id=i), PaymentPolicy(failure_rate=0.25), NOW)[1].fields["reason"]
               for i in quarter}
    assert len(reasons) == 1
    assert reasons != {OVER_LIMIT}


def test_a_command_of_another_service_is_refused() -> None:
    with pytest.raises(ValueError, match="does not take CreateShipment"):
        handle(Replies(), Command(str(uuid.uuid4()), "CreateShipment", {"order_id": "o-1"}), PaymentPolicy(), NOW)


def test_replies_round_trip_through_table_rows() -> None:
    state = Replies()
    for command in (authorize(), refund()):
        state, _ = handle(state, command, PaymentPolicy(), NOW)
    rows = state.rows()
    assert sorted(rows) == sorted(f"reply/{i}" for i in state.replies)
    assert Replies.from_rows({**rows, "reply/absent": None}) == state
