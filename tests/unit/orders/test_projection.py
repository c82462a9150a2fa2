"""The order projection as a plain function: lifecycle, idempotency, replays, deltas."""

from datetime import UTC, datetime, timedelta
from typing import Any

from agents.events import (
    MODELS,
    InventoryReleased,
    InventoryReservationFailed,
    InventoryReserved,
    OrderCancelled,
    OrderCompleted,
    OrderFailed,
    OrderShipped,
    PaymentAuthorized,
    PaymentFailed,
    PaymentRefunded,
    ShipmentCreated,
    ShipmentFailed,
)
from agents.orders.projection import EVENT_TIME_FIELDS, EventMeta, OrderOutcome, apply_order
from agents.orders.view import OrderView
from streams.position import Position
from tests.support import NOW, new_id, placed


def meta(event: Any, offset: int, event_id: str | None = None, partition: int = 0) -> EventMeta:
    return EventMeta(event_id=event_id or new_id(), event_type=type(event).__name__,
                     position=Position("orders", partition, offset), occurred_at=NOW + timedelta(minutes=offset))


def run(events: list[Any]) -> tuple[OrderView | None, list[OrderOutcome]]:
    view: OrderView | None = None
    outcomes = []
    for offset, event in enumerate(events):
        outcome = apply_order(view, event, meta(event, offset))
        outcomes.append(outcome)
        if outcome.kind == "applied":
            view = outcome.view
    return view, outcomes


def test_full_lifecycle() -> None:
    view, outcomes = run([
        placed(),
        PaymentAuthorized(order_id="o-1", payment_id="p", amount_minor=1250, currency="EUR", authorized_at=NOW),
        InventoryReserved(order_id="o-1", reservation_id="r", reserved_at=NOW),
        OrderShipped(order_id="o-1", carrier="dhl", tracking_number="T1", shipped_at=NOW),
        OrderCompleted(order_id="o-1", completed_at=NOW),
    ])
    assert [o.kind for o in outcomes] == ["applied"] * 5
    assert view is not None
    assert view["status"] == "completed"
    assert (view["paid_minor"], view["reserved"], view["tracking_number"]) == (1250, True, "T1")
    assert view["applied"] == {"topic": "orders", "partition": 0, "offset": 4}
    assert [e["to_status"] for e in view["history"]] == ["placed", "paid", "reserved", "shipped", "completed"]


def test_cancellation_with_compensations() -> None:
    view, outcomes = run([
        placed(),
        PaymentAuthorized(order_id="o-1", payment_id="p", amount_minor=1250, currency="EUR", authorized_at=NOW),
        InventoryReserved(order_id="o-1", reservation_id="r", reserved_at=NOW),
        OrderCancelled(order_id="o-1", reason="customer changed mind", cancelled_at=NOW),
        PaymentRefunded(order_id="o-1", payment_id="p", amount_minor=1250, currency="EUR", refunded_at=NOW),
        InventoryReleased(order_id="o-1", reservation_id="r", released_at=NOW),
    ])
    assert view is not None
    assert (view["status"], view["refunded_minor"], view["released"]) == ("cancelled", 1250, True)
    refund = outcomes[4]
    assert refund.customers[0]["value_minor"] == -1250
    assert refund.stats[0]["revenue_minor"] == -1250
    release = outcomes[5]
    assert {(d["sku"], d["released"]) for d in release.skus} == {("sku-a", 2), ("sku-b", 1)}


def paid_and_reserved() -> list[Any]:
    return [placed(),
            PaymentAuthorized(order_id="o-1", payment_id="p", amount_minor=1250, currency="EUR", authorized_at=NOW),
            InventoryReserved(order_id="o-1", reservation_id="r", reserved_at=NOW)]


def test_the_saga_ships_with_shipment_created_as_with_order_shipped() -> None:
    view, outcomes = run([
        *paid_and_reserved(),
        ShipmentCreated(order_id="o-1", shipment_id="s-1", carrier="ups", tracking_number="1Z",
                        created_at=NOW + timedelta(seconds=5)),
        OrderCompleted(order_id="o-1", completed_at=NOW + timedelta(seconds=6)),
    ])
    assert [o.kind for o in outcomes] == ["applied"] * 5
    assert view is not None
    assert (view["status"], view["carrier"], view["tracking_number"]) == ("completed", "ups", "1Z")
    shipped = view["history"][3]
    assert (shipped["event_type"], shipped["from_status"], shipped["to_status"]) == (
        "ShipmentCreated", "reserved", "shipped")
    (stat,) = outcomes[3].stats
    assert (stat["from_status"], stat["to_status"], stat["revenue_minor"]) == ("reserved", "shipped", 0)


def test_a_failed_shipment_is_undone_then_the_order_fails() -> None:
    view, outcomes = run([
        *paid_and_reserved(),
        ShipmentFailed(order_id="o-1", reason="address unknown", failed_at=NOW),
        InventoryReleased(order_id="o-1", reservation_id="r", released_at=NOW),
        PaymentRefunded(order_id="o-1", payment_id="p", amount_minor=1250, currency="EUR", refunded_at=NOW),
        OrderFailed(order_id="o-1", reason="shipping: address unknown", failed_at=NOW + timedelta(seconds=9)),
    ])
    assert [o.kind for o in outcomes] == ["applied"] * 7
    assert view is not None
    assert [e["to_status"] for e in view["history"][3:]] == ["shipment_failed"] * 3 + ["failed"]
    assert (view["status"], view["reason"], view["released"], view["refunded_minor"]) == (
        "failed", "shipping: address unknown", True, 1250)
    assert view["tracking_number"] is None
    assert view["updated_at"] == "2026-11-22T10:30:09Z"  # the failure's own failed_at
    assert outcomes[3].view is not None
    assert outcomes[3].view["reason"] == "address unknown"
    release, refund, failed = outcomes[4:]
    assert {(d["sku"], d["released"]) for d in release.skus} == {("sku-a", 2), ("sku-b", 1)}
    assert refund.stats[0]["revenue_minor"] == -1250
    assert refund.customers[0]["value_minor"] == -1250
    (stat,) = failed.stats
    assert (stat["from_status"], stat["to_status"]) == ("shipment_failed", "failed")


def test_a_failed_reservation_is_refunded_then_the_order_fails() -> None:
    view, outcomes = run([
        *paid_and_reserved()[:2],
        InventoryReservationFailed(order_id="o-1", reason="sku-b out of stock", failed_at=NOW),
        PaymentRefunded(order_id="o-1", payment_id="p", amount_minor=1250, currency="EUR", refunded_at=NOW),
        OrderFailed(order_id="o-1", reason="inventory: sku-b out of stock", failed_at=NOW),
    ])
    assert [o.kind for o in outcomes] == ["applied"] * 5
    assert view is not None
    assert [e["to_status"] for e in view["history"]] == [
        "placed", "paid", "reservation_failed", "reservation_failed", "failed"]
    assert (view["status"], view["reason"], view["refunded_minor"], view["released"]) == (
        "failed", "inventory: sku-b out of stock", 1250, False)


def test_a_late_payment_is_recorded_status_kept_and_its_refund_balances_it() -> None:
    """A payment authorized after the saga gave up still happened: recorded in the failed order, then refunded."""
    view, outcomes = run([
        placed(),
        PaymentFailed(order_id="o-1", reason="card declined", failed_at=NOW),
        OrderFailed(order_id="o-1", reason="payment: card declined", failed_at=NOW),
        PaymentAuthorized(order_id="o-1", payment_id="p", amount_minor=1250, currency="EUR", authorized_at=NOW),
        PaymentRefunded(order_id="o-1", payment_id="p", amount_minor=1250, currency="EUR", refunded_at=NOW),
    ])
    assert [o.kind for o in outcomes] == ["applied"] * 5
    assert view is not None
    assert (view["status"], view["paid_minor"], view["refunded_minor"]) == ("failed", 1250, 1250)
    revenue = sum(delta["revenue_minor"] for outcome in outcomes for delta in outcome.stats)
    value = sum(delta["value_minor"] for outcome in outcomes for delta in outcome.customers)
    assert (revenue, value) == (0, 0)  # the payment's revenue netted out; the customer's value as for any refund


def test_a_late_reservation_in_a_cancelled_order_is_recorded_then_released() -> None:
    view, outcomes = run([
        *paid_and_reserved()[:2],
        OrderCancelled(order_id="o-1", reason="changed my mind", cancelled_at=NOW),
        InventoryReserved(order_id="o-1", reservation_id="r", reserved_at=NOW),
        InventoryReleased(order_id="o-1", reservation_id="r", released_at=NOW),
    ])
    assert [o.kind for o in outcomes][-2:] == ["applied", "applied"]
    assert view is not None
    assert (view["status"], view["reserved"], view["released"]) == ("cancelled", True, True)
    net = sum(d["reserved"] - d["released"] for outcome in outcomes for d in outcome.skus)
    assert net == 0


def test_shipping_replies_are_refused_outside_reserved() -> None:
    created = ShipmentCreated(order_id="o-1", shipment_id="s", carrier="ups", tracking_number="1Z", created_at=NOW)
    failed = ShipmentFailed(order_id="o-1", reason="no carrier", failed_at=NOW)
    paid_view, _ = run(paid_and_reserved()[:2])
    for event in (created, failed):
        outcome = apply_order(paid_view, event, meta(event, 9))
        assert outcome.kind == "rejected"
        assert outcome.view is paid_view
        assert f"{type(event).__name__} not allowed in status paid" in (outcome.reason or "")


def test_same_event_id_elsewhere_is_a_duplicate_and_sends_nothing() -> None:
    event = placed()
    first = apply_order(None, event, meta(event, 0, event_id="11111111-1111-1111-1111-111111111111"))
    again = apply_order(first.view, event, meta(event, 7, event_id="11111111-1111-1111-1111-111111111111"))
    assert again.kind == "duplicate"
    assert again.view is first.view
    assert (again.customers, again.skus, again.stats) == ([], [], [])


def test_the_projection_knows_no_replay_the_same_record_again_is_a_duplicate() -> None:
    event = placed()
    event_meta = meta(event, 3)
    first = apply_order(None, event, event_meta)
    again = apply_order(first.view, event, event_meta)  # the platform never hands it over twice; if it did
    assert again.kind == "duplicate"
    assert (again.customers, again.skus, again.stats) == ([], [], [])


def test_disallowed_transition_is_rejected_and_changes_nothing() -> None:
    event = placed()
    first = apply_order(None, event, meta(event, 0))
    ship = OrderShipped(order_id="o-1", carrier="dhl", tracking_number="T", shipped_at=NOW)
    outcome = apply_order(first.view, ship, meta(ship, 1))
    assert outcome.kind == "rejected"
    assert outcome.view is first.view
    assert "OrderShipped not allowed in status placed" in (outcome.reason or "")
    pay = PaymentAuthorized(order_id="o-2", payment_id="p", amount_minor=1, currency="EUR", authorized_at=NOW)
    assert apply_order(None, pay, meta(pay, 2)).kind == "rejected"


def test_a_payment_or_refund_in_another_currency_is_rejected_and_changes_nothing() -> None:
    placed_view, _ = run([placed()])  # an order in EUR
    paid_view, _ = run([
        placed(),
        PaymentAuthorized(order_id="o-1", payment_id="p", amount_minor=1250, currency="EUR", authorized_at=NOW),
        OrderCancelled(order_id="o-1", reason="customer changed mind", cancelled_at=NOW),
    ])
    pay = PaymentAuthorized(order_id="o-1", payment_id="p", amount_minor=1250, currency="USD", authorized_at=NOW)
    refund = PaymentRefunded(order_id="o-1", payment_id="p", amount_minor=1250, currency="USD", refunded_at=NOW)
    for before, event in ((placed_view, pay), (paid_view, refund)):
        outcome = apply_order(before, event, meta(event, 5))
        assert outcome.kind == "rejected"
        assert outcome.view is before
        assert (outcome.customers, outcome.skus, outcome.stats) == ([], [], [])
        assert f"{type(event).__name__} in USD for an order in EUR" in (outcome.reason or "")


def test_placed_sends_customer_and_stats_deltas() -> None:
    event = placed(customer_id="c-9")
    outcome = apply_order(None, event, meta(event, 12, partition=3))
    (customer,) = outcome.customers
    assert customer["customer_id"] == "c-9"
    assert (customer["orders"], customer["value_minor"]) == (1, 1250)
    (stat,) = outcome.stats
    assert (stat["from_status"], stat["to_status"]) == (None, "placed")


def test_the_view_shows_the_times_the_events_say_not_when_they_were_sent() -> None:
    at = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
    events: list[Any] = [
        placed(placed_at=at),
        PaymentAuthorized(order_id="o-1", payment_id="p", amount_minor=1250, currency="EUR",
                          authorized_at=at + timedelta(seconds=1)),
        InventoryReserved(order_id="o-1", reservation_id="r", reserved_at=at + timedelta(seconds=2)),
        OrderShipped(order_id="o-1", carrier="dhl", tracking_number="T1", shipped_at=at + timedelta(seconds=3)),
        OrderCompleted(order_id="o-1", completed_at=at + timedelta(seconds=4)),
    ]
    sent = datetime(2027, 1, 1, tzinfo=UTC)  # the envelope's occurred_at: a late send, a redrive, a backfill
    view: OrderView | None = None
    for offset, event in enumerate(events):
        event_meta = EventMeta(event_id=new_id(), event_type=type(event).__name__,
                               position=Position("orders", 0, offset), occurred_at=sent)
        outcome = apply_order(view, event, event_meta)
        assert outcome.kind == "applied"
        view = outcome.view
        assert view is not None
        assert view["placed_at"] == "2026-11-22T10:00:00Z"
        assert view["updated_at"] == f"2026-11-22T10:00:0{offset}Z"


def test_every_event_type_names_the_field_that_says_when_it_happened() -> None:
    assert set(EVENT_TIME_FIELDS) == set(MODELS)
    for name, model in MODELS.items():
        assert model.model_fields[EVENT_TIME_FIELDS[name]].annotation is datetime
