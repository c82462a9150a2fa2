"""The delta folds of the customer, inventory and stats read models: plain functions, each delta once."""

from datetime import UTC, datetime, timedelta
from typing import Any

from agents.events import OrderCancelled, PaymentAuthorized, PaymentRefunded
from agents.orders.deltas import CustomerDelta, SkuDelta, StatsDelta
from agents.orders.projection import EventMeta, apply_order
from agents.orders.view import OrderView
from agents.readmodels.customers import CustomerView, apply_customer
from agents.readmodels.inventory import apply_sku
from agents.readmodels.stats import StatsView, apply_stats
from streams.position import Position
from tests.support import new_id, placed


def test_customer_counts_orders_and_value() -> None:
    view = apply_customer(None, CustomerDelta(customer_id="c1", order_id="o1", orders=1, value_minor=1200,
                                              currency="EUR"))
    assert (view["order_count"], view["order_ids"], view["lifetime_value_minor"]) == (1, ["o1"], {"EUR": 1200})
    view = apply_customer(view, CustomerDelta(customer_id="c1", order_id="o1", orders=0, value_minor=-200,
                                              currency="EUR"))
    assert view["order_count"] == 1
    assert view["order_ids"] == ["o1"]
    assert view["lifetime_value_minor"] == {"EUR": 1000}


def test_sku_reserved_released_and_held_counts_every_line() -> None:
    view = apply_sku(None, SkuDelta(sku="S", reserved=3, released=0))
    view = apply_sku(view, SkuDelta(sku="S", reserved=2, released=0))  # a second line of the same SKU
    view = apply_sku(view, SkuDelta(sku="S", reserved=0, released=4))
    assert (view["reserved"], view["released"], view["held"]) == (5, 4, 1)


def test_stats_move_orders_between_statuses_and_sum_revenue_per_hour() -> None:
    deltas = [
        StatsDelta(from_status=None, to_status="placed", revenue_minor=0, currency="EUR", hour="2026-01-01T10:00Z"),
        StatsDelta(from_status="placed", to_status="paid", revenue_minor=500, currency="EUR",
                   hour="2026-01-01T10:00Z"),
        StatsDelta(from_status=None, to_status="placed", revenue_minor=0, currency="EUR", hour="2026-01-01T11:00Z"),
    ]
    view = None
    for delta in deltas:
        view = apply_stats(view, delta)
    assert view is not None
    assert view["orders_by_status"] == {"placed": 1, "paid": 1}
    assert view["revenue_minor_by_hour"] == {"2026-01-01T10:00Z": {"EUR": 500}}
    assert view["revenue_minor_total"] == {"EUR": 500}


def _fold(events: list[Any], *, sent: datetime) -> tuple[list[str], CustomerView | None, StatsView | None]:
    """The order projection's outcomes for ``events``, and its deltas folded into the customer and stats views."""
    order: OrderView | None = None
    customer: CustomerView | None = None
    stats: StatsView | None = None
    kinds: list[str] = []
    for offset, event in enumerate(events):
        outcome = apply_order(order, event, EventMeta(event_id=new_id(), event_type=type(event).__name__,
                                                      position=Position("orders", 0, offset), occurred_at=sent))
        kinds.append(outcome.kind)
        order = outcome.view
        for customer_delta in outcome.customers:
            customer = apply_customer(customer, customer_delta)
        for stats_delta in outcome.stats:
            stats = apply_stats(stats, stats_delta)
    return kinds, customer, stats


def test_revenue_counts_in_the_hour_and_currency_the_payment_and_refund_say() -> None:
    at = datetime(2026, 11, 22, 9, 59, tzinfo=UTC)
    kinds, customer, stats = _fold([
        placed(placed_at=at, currency="USD"),
        PaymentAuthorized(order_id="o-1", payment_id="p", amount_minor=1250, currency="USD", authorized_at=at),
        OrderCancelled(order_id="o-1", reason="changed mind", cancelled_at=at + timedelta(hours=2)),
        PaymentRefunded(order_id="o-1", payment_id="p", amount_minor=250, currency="USD",
                        refunded_at=at + timedelta(hours=2)),
    ], sent=datetime(2027, 1, 1, 17, 30, tzinfo=UTC))
    assert kinds == ["applied"] * 4
    assert stats is not None
    assert stats["revenue_minor_by_hour"] == {"2026-11-22T09:00Z": {"USD": 1250},
                                              "2026-11-22T11:00Z": {"USD": -250}}
    assert stats["revenue_minor_total"] == {"USD": 1000}
    assert customer is not None
    assert customer["lifetime_value_minor"] == {"USD": 1000}


def test_a_payment_or_refund_in_another_currency_than_the_orders_is_rejected_and_counts_nowhere() -> None:
    at = datetime(2026, 11, 22, 9, 59, tzinfo=UTC)
    kinds, customer, stats = _fold([
        placed(placed_at=at),  # in EUR, 12.50
        PaymentAuthorized(order_id="o-1", payment_id="p", amount_minor=1250, currency="USD", authorized_at=at),
        PaymentAuthorized(order_id="o-1", payment_id="p", amount_minor=1250, currency="EUR", authorized_at=at),
        OrderCancelled(order_id="o-1", reason="changed mind", cancelled_at=at),
        PaymentRefunded(order_id="o-1", payment_id="p", amount_minor=250, currency="USD", refunded_at=at),
    ], sent=datetime(2027, 1, 1, 17, 30, tzinfo=UTC))
    assert kinds == ["applied", "rejected", "applied", "applied", "rejected"]
    assert customer is not None
    assert customer["lifetime_value_minor"] == {"EUR": 1250}
    assert stats is not None
    assert stats["revenue_minor_total"] == {"EUR": 1250}
