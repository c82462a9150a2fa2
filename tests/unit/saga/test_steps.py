"""The order saga's step function on its own: every path of the diagram, timeouts, cancellation, duplicates, late
and unexpected replies."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from agents.saga.state import Decision, Reply, Retry, SagaState, Timer, record_id
from agents.saga.steps import SagaPolicy, advance

POLICY = SagaPolicy(step_timeout_s=5.0, max_attempts=3, warehouse="main")
T0 = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
_ids = itertools.count()

PLACED = {"order_id": "o-1", "customer_id": "c-1", "total_minor": 2500, "currency": "EUR",
          "items": [{"sku": "sku-a", "quantity": 2, "unit_price_minor": 1000},
                    {"sku": "sku-b", "quantity": 1, "unit_price_minor": 500}]}
REPLY_FIELDS: dict[str, dict[str, Any]] = {
    "PaymentAuthorized": {"payment_id": "pay-1", "amount_minor": 2500, "currency": "EUR"},
    "PaymentFailed": {"reason": "declined"},
    "InventoryReserved": {"reservation_id": "res-1"},
    "InventoryReservationFailed": {"reason": "out of stock"},
    "ShipmentCreated": {"shipment_id": "shp-1", "carrier": "SIM", "tracking_number": "T-1"},
    "ShipmentFailed": {"reason": "no carrier"},
    "PaymentRefunded": {"payment_id": "pay-1", "amount_minor": 2500, "currency": "EUR"},
    "InventoryReleased": {"reservation_id": "res-1"},
    "OrderCancelled": {"reason": "customer asked"},
}


def event(event_type: str, event_id: str | None = None) -> Reply:
    fields = PLACED if event_type == "OrderPlaced" else {"order_id": "o-1", **REPLY_FIELDS.get(event_type, {})}
    return Reply(event_type, event_id or f"e-{next(_ids)}", "corr-1", fields)


class Saga:
    """Drives one saga through inputs, keeping every decision (what a test asserts on)."""

    def __init__(self) -> None:
        self.state: SagaState | None = None
        self.now = T0
        self.decisions: list[Decision] = []

    def feed(self, message: Reply | Timer | Retry) -> Decision:
        self.now += timedelta(seconds=1)
        decision = advance(self.state, message, self.now, POLICY)
        if decision.state is not None:
            self.state = decision.state
        self.decisions.append(decision)
        return decision

    def timeout(self) -> Decision:
        assert self.state is not None
        assert self.state["step"] is not None
        return self.feed(Timer(self.state["step"], self.state["attempt"], f"t-{next(_ids)}"))

    @property
    def s(self) -> SagaState:
        assert self.state is not None
        return self.state

    def sent(self) -> list[str]:
        return [c.name for d in self.decisions for c in d.commands]

    def emitted(self) -> list[str]:
        return [e.name for d in self.decisions for e in d.events]

    def notes(self) -> list[tuple[str, str]]:
        return [n for d in self.decisions for n in d.notes]


def placed_saga() -> Saga:
    saga = Saga()
    saga.feed(event("OrderPlaced"))
    return saga


def test_a_placed_order_is_paid_reserved_shipped_and_completed() -> None:
    saga = placed_saga()
    for reply in ("PaymentAuthorized", "InventoryReserved", "ShipmentCreated"):
        saga.feed(event(reply))
    assert saga.sent() == ["AuthorizePayment", "ReserveInventory", "CreateShipment"]
    assert saga.emitted() == ["OrderCompleted"]
    assert (saga.s["status"], saga.s["step"], saga.s["deadline"]) == ("completed", None, None)
    assert ("started", "payment") in saga.notes()
    assert ("completed", "shipment") in saga.notes()


def test_commands_carry_what_the_service_needs_a_stable_id_and_their_cause() -> None:
    saga = Saga()
    placed = event("OrderPlaced", "placed-1")
    [command] = saga.feed(placed).commands
    assert (command.service, command.name) == ("payments", "AuthorizePayment")
    assert command.fields == {"order_id": "o-1", "customer_id": "c-1", "amount_minor": 2500, "currency": "EUR"}
    assert command.command_id == record_id("o-1", "AuthorizePayment")
    assert command.causation_id == "placed-1"
    [reserve] = saga.feed(event("PaymentAuthorized", "paid-1")).commands
    assert reserve.fields == {"order_id": "o-1", "warehouse": "main",
                              "lines": [{"sku": "sku-a", "quantity": 2}, {"sku": "sku-b", "quantity": 1}]}
    assert (reserve.service, reserve.causation_id) == ("inventory", "paid-1")


def test_a_declined_payment_fails_the_order_with_nothing_to_undo() -> None:
    saga = placed_saga()
    decision = saga.feed(event("PaymentFailed"))
    assert saga.s["status"] == "failed"
    assert saga.sent() == ["AuthorizePayment"]
    [failed] = decision.events
    assert failed.name == "OrderFailed"
    assert "declined" in failed.fields["reason"]
    assert ("failed", "payment") in saga.notes()


def test_a_failed_reservation_refunds_the_payment_then_fails_the_order() -> None:
    saga = placed_saga()
    saga.feed(event("PaymentAuthorized"))
    [refund] = saga.feed(event("InventoryReservationFailed")).commands
    assert refund.name == "RefundPayment"
    assert refund.fields["payment_id"] == "pay-1"
    assert refund.fields["amount_minor"] == 2500
    assert saga.emitted() == []  # not before the refund is done
    saga.feed(event("PaymentRefunded"))
    assert saga.emitted() == ["OrderFailed"]
    assert (saga.s["status"], saga.s["compensations"]) == ("compensated", ["refund"])


def test_a_failed_shipment_releases_the_stock_then_refunds_last_first() -> None:
    saga = placed_saga()
    for reply in ("PaymentAuthorized", "InventoryReserved", "ShipmentFailed", "InventoryReleased",
                  "PaymentRefunded"):
        saga.feed(event(reply))
    assert saga.sent()[-2:] == ["ReleaseInventory", "RefundPayment"]
    assert saga.s["compensations"] == ["release", "refund"]
    assert saga.s["status"] == "compensated"
    assert saga.emitted() == ["OrderFailed"]
    assert ("compensated", "shipment") in saga.notes()


def test_a_silent_step_is_sent_again_with_the_same_id_and_a_longer_wait_then_fails() -> None:
    saga = placed_saga()
    saga.feed(event("PaymentAuthorized"))
    waits = []
    for _ in range(POLICY.max_attempts - 1):
        before = saga.now
        deadline = datetime.fromisoformat(saga.s["deadline"] or "")
        waits.append((deadline - before).total_seconds())
        saga.timeout()
    assert saga.sent().count("ReserveInventory") == POLICY.max_attempts
    ids = {c.command_id for d in saga.decisions for c in d.commands if c.name == "ReserveInventory"}
    assert ids == {record_id("o-1", "ReserveInventory")}
    assert waits[1] > waits[0] * 1.3  # doubled, jitter within 0.8-1.2
    saga.timeout()  # the last attempt timed out: the step failed, the payment is refunded
    assert saga.sent()[-1] == "RefundPayment"
    assert saga.s["failed_step"] == "inventory"
    assert "did not answer after 3 attempts" in (saga.s["reason"] or "")
    assert ("timed_out", "inventory") in saga.notes()


def test_a_timer_of_another_step_or_attempt_is_stale() -> None:
    saga = placed_saga()
    saga.timeout()  # attempt 2 of payment now
    for timer in (Timer("payment", 1, "old"), Timer("inventory", 2, "other")):
        assert saga.feed(timer) == Decision(None, notes=[("stale_timer", timer.step)])
    saga.feed(event("PaymentFailed"))
    assert saga.feed(Timer("payment", 2, "after-end")).state is None


def test_a_compensation_that_never_answers_leaves_the_saga_stuck_until_retried() -> None:
    saga = placed_saga()
    saga.feed(event("PaymentAuthorized"))
    saga.feed(event("InventoryReservationFailed"))
    for _ in range(POLICY.max_attempts):
        saga.timeout()
    assert (saga.s["status"], saga.s["step"], saga.s["deadline"]) == ("stuck", "refund", None)
    assert ("stuck", "refund") in saga.notes()
    assert saga.feed(Timer("refund", POLICY.max_attempts, "late-timer")).state is None
    [again] = saga.feed(Retry("op-1")).commands
    assert again.name == "RefundPayment"
    assert saga.s["status"] == "running"
    assert saga.s["attempt"] == 1
    saga.feed(event("PaymentRefunded"))
    assert saga.s["status"] == "compensated"
    assert saga.emitted() == ["OrderFailed"]


def test_a_stuck_saga_takes_its_awaited_reply_when_it_finally_comes() -> None:
    saga = placed_saga()
    saga.feed(event("PaymentAuthorized"))
    saga.feed(event("InventoryReservationFailed"))
    for _ in range(POLICY.max_attempts):
        saga.timeout()
    saga.feed(event("PaymentRefunded"))
    assert saga.s["status"] == "compensated"


def test_retry_of_a_saga_that_is_not_stuck_changes_nothing() -> None:
    saga = placed_saga()
    assert saga.feed(Retry("op")) == Decision(None, notes=[("retry_ignored", "")])


@pytest.mark.parametrize(("replies", "undo"), [
    ((), []),
    (("PaymentAuthorized",), ["RefundPayment"]),
    (("PaymentAuthorized", "InventoryReserved"), ["ReleaseInventory", "RefundPayment"]),
], ids=["at-payment", "at-inventory", "at-shipment"])
def test_a_cancellation_mid_saga_undoes_what_was_done_and_writes_no_order_failed(
        replies: tuple[str, ...], undo: list[str]) -> None:
    saga = placed_saga()
    for reply in replies:
        saga.feed(event(reply))
    before = len(saga.sent())
    saga.feed(event("OrderCancelled"))
    for compensation in ("InventoryReleased", "PaymentRefunded")[2 - len(undo):]:
        saga.feed(event(compensation))
    assert saga.sent()[before:] == undo
    assert saga.s["status"] == "compensated"
    assert saga.s["cancelled"]
    assert saga.emitted() == []


def test_a_cancellation_after_completion_changes_nothing_but_the_history() -> None:
    saga = placed_saga()
    for reply in ("PaymentAuthorized", "InventoryReserved", "ShipmentCreated"):
        saga.feed(event(reply))
    decision = saga.feed(event("OrderCancelled"))
    assert decision.commands == []
    assert saga.s["status"] == "completed"
    assert ("cancel_too_late", "completed") in decision.notes


def test_an_event_id_seen_before_is_a_duplicate() -> None:
    saga = placed_saga()
    paid = event("PaymentAuthorized", "paid-1")
    saga.feed(paid)
    assert saga.feed(paid) == Decision(None, notes=[("duplicate", "PaymentAuthorized")])
    assert saga.sent().count("ReserveInventory") == 1


def test_the_same_success_under_another_event_id_is_a_duplicate() -> None:
    saga = placed_saga()
    saga.feed(event("PaymentAuthorized"))
    saga.feed(event("InventoryReserved"))
    assert saga.feed(event("PaymentAuthorized")) == Decision(None, notes=[("duplicate", "PaymentAuthorized")])


def test_a_payment_authorized_after_its_step_gave_up_is_refunded() -> None:
    saga = placed_saga()
    for _ in range(POLICY.max_attempts):
        saga.timeout()
    assert saga.s["status"] == "failed"
    assert saga.emitted() == ["OrderFailed"]
    decision = saga.feed(event("PaymentAuthorized"))
    assert [c.name for c in decision.commands] == ["RefundPayment"]
    assert ("late", "PaymentAuthorized") in decision.notes
    saga.feed(event("PaymentRefunded"))
    assert saga.s["status"] == "compensated"
    assert saga.emitted() == ["OrderFailed"]


def test_a_reservation_that_answers_after_a_cancellation_is_released() -> None:
    saga = placed_saga()
    saga.feed(event("PaymentAuthorized"))
    saga.feed(event("OrderCancelled"))  # refund sent; the reservation is still in flight
    decision = saga.feed(event("InventoryReserved"))
    assert decision.commands == []  # the refund in flight first; the release goes next
    assert saga.s["undo"] == ["release"]
    saga.feed(event("PaymentRefunded"))
    assert saga.sent()[-1] == "ReleaseInventory"
    saga.feed(event("InventoryReleased"))
    assert saga.s["status"] == "compensated"
    assert saga.s["compensations"] == ["refund", "release"]


def test_a_late_failure_is_recorded_and_changes_nothing_else() -> None:
    saga = placed_saga()
    saga.feed(event("PaymentAuthorized"))
    saga.feed(event("InventoryReserved"))
    saga.feed(event("OrderCancelled"))
    saga.feed(event("InventoryReleased"))
    saga.feed(event("PaymentRefunded"))
    sent = len(saga.sent())
    decision = saga.feed(event("ShipmentFailed"))
    assert (decision.commands, ("late", "ShipmentFailed") in decision.notes) == ([], True)
    assert saga.s["status"] == "compensated"
    assert len(saga.sent()) == sent
    assert saga.s["history"][-1]["kind"] == "late"


@pytest.mark.parametrize("gave_up", ["timed-out", "cancelled"])
def test_a_late_shipment_stops_the_compensations_not_yet_sent_and_leaves_the_saga_stuck_for_a_person(
        gave_up: str) -> None:
    saga = placed_saga()
    saga.feed(event("PaymentAuthorized"))
    saga.feed(event("InventoryReserved"))
    if gave_up == "cancelled":
        saga.feed(event("OrderCancelled"))
    else:
        for _ in range(POLICY.max_attempts):
            saga.timeout()
    assert saga.sent()[-1] == "ReleaseInventory"  # in flight; the refund would come next
    decision = saga.feed(event("ShipmentCreated"))
    assert decision.commands == []
    assert ("stuck", "shipment") in decision.notes
    assert (saga.s["status"], saga.s["step"], saga.s["undo"]) == ("stuck", None, [])
    assert "no command cancels a shipment" in (saga.s["reason"] or "")
    saga.feed(event("InventoryReleased"))  # the release already sent answers: recorded, nothing more is sent
    assert "RefundPayment" not in saga.sent()
    assert saga.feed(Retry("op")) == Decision(None, notes=[("retry_ignored", "")])


def test_the_same_failure_under_another_event_id_is_a_duplicate() -> None:
    saga = placed_saga()
    saga.feed(event("PaymentFailed"))
    assert saga.feed(event("PaymentFailed")) == Decision(None, notes=[("duplicate", "PaymentFailed")])


def test_a_saga_opened_again_by_a_late_success_is_counted_as_ended_once() -> None:
    saga = placed_saga()
    for _ in range(POLICY.max_attempts):
        saga.timeout()
    saga.feed(event("PaymentAuthorized"))
    saga.feed(event("PaymentRefunded"))
    assert saga.s["status"] == "compensated"
    ends = [note for note in saga.notes() if note[0] in ("completed", "failed", "compensated")]
    assert ends == [("failed", "payment")]


def test_a_resend_and_a_release_go_to_the_warehouse_the_saga_started_with() -> None:
    saga = placed_saga()
    saga.feed(event("PaymentAuthorized"))
    moved = SagaPolicy(step_timeout_s=5.0, max_attempts=3, warehouse="elsewhere")
    resend = advance(saga.s, Timer("inventory", 1, "t-moved"), saga.now, moved)
    release = advance(saga.s, event("OrderCancelled"), saga.now, moved)
    assert [c.fields["warehouse"] for c in resend.commands] == ["main"]
    assert [c.name for c in release.commands] == ["RefundPayment"]  # nothing reserved: no release
    saga.feed(event("InventoryReserved"))
    cancel = advance(saga.s, event("OrderCancelled"), saga.now, moved)
    assert [(c.name, c.fields["warehouse"]) for c in cancel.commands] == [("ReleaseInventory", "main")]


def test_a_reply_to_a_command_never_sent_is_unexpected() -> None:
    saga = placed_saga()
    decision = saga.feed(event("InventoryReserved"))
    assert decision.commands == []
    assert ("unexpected", "InventoryReserved") in decision.notes
    assert "inventory" not in saga.s["done"]


def test_replies_for_an_order_without_a_saga_are_orphans_and_its_own_events_are_ignored() -> None:
    assert advance(None, event("PaymentAuthorized"), T0, POLICY) == Decision(None, notes=[("orphan",
                                                                                         "PaymentAuthorized")])
    saga = placed_saga()
    assert saga.feed(event("OrderCompleted")) == Decision(None)


def test_the_jittered_wait_stays_within_its_bounds_and_is_the_same_each_time() -> None:
    for attempt in (1, 2, 3):
        wait = POLICY.wait("o-9", "payment", attempt)
        base = POLICY.step_timeout_s * 2 ** (attempt - 1)
        assert 0.8 * base <= wait <= 1.2 * base
        assert wait == POLICY.wait("o-9", "payment", attempt)
    assert len({POLICY.wait(f"o-{i}", "payment", 1) for i in range(20)}) > 10


def test_the_input_state_is_never_changed() -> None:
    saga = placed_saga()
    before = saga.s
    snapshot = repr(before)
    advance(before, event("PaymentAuthorized"), T0, POLICY)
    assert repr(before) == snapshot


def test_the_sagas_own_event_coming_back_is_not_counted_as_a_duplicate() -> None:
    saga = placed_saga()
    for reply in ("PaymentAuthorized", "InventoryReserved", "ShipmentCreated"):
        saga.feed(event(reply))
    [completed] = saga.decisions[-1].events
    assert saga.feed(event("OrderCompleted", completed.event_id)) == Decision(None)
