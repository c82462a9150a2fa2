"""The delta folds of the customer, inventory and stats read models: plain functions, each delta once."""

from agents.orders.deltas import CustomerDelta, SkuDelta, StatsDelta
from agents.readmodels.customers import apply_customer
from agents.readmodels.inventory import apply_sku
from agents.readmodels.stats import apply_stats


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
