from agents.orders.deltas import CustomerDelta, SkuDelta, Source, StatsDelta
from agents.readmodels.customers import apply_customer
from agents.readmodels.inventory import apply_sku
from agents.readmodels.stats import apply_stats


def src(partition: int, offset: int) -> Source:
    return Source(topic="orders", partition=partition, offset=offset, event_id=f"e-{partition}-{offset}")


def test_customer_counts_orders_and_value_once_per_source_position() -> None:
    placed = CustomerDelta(source=src(0, 5), customer_id="c1", order_id="o1", orders=1, value_minor=1200,
                           currency="EUR")
    view = apply_customer(None, placed)
    assert view is not None
    assert (view["order_count"], view["order_ids"], view["lifetime_value_minor"]) == (1, ["o1"], {"EUR": 1200})
    assert apply_customer(view, placed) is None  # replayed: already applied
    refund = CustomerDelta(source=src(0, 9), customer_id="c1", order_id="o1", orders=0, value_minor=-200,
                           currency="EUR")
    view = apply_customer(view, refund)
    assert view is not None
    assert view["order_count"] == 1
    assert view["lifetime_value_minor"] == {"EUR": 1000}
    assert view["applied"] == {"orders:0": 9}


def test_positions_of_other_partitions_are_independent() -> None:
    first = apply_customer(None, CustomerDelta(source=src(1, 100), customer_id="c", order_id="a", orders=1,
                                               value_minor=1, currency="EUR"))
    second = apply_customer(first, CustomerDelta(source=src(2, 3), customer_id="c", order_id="b", orders=1,
                                                 value_minor=1, currency="EUR"))
    assert second is not None
    assert second["order_count"] == 2
    assert second["applied"] == {"orders:1": 100, "orders:2": 3}


def test_sku_reserved_released_and_held() -> None:
    view = apply_sku(None, SkuDelta(source=src(0, 1), sku="S", reserved=3, released=0))
    view = apply_sku(view, SkuDelta(source=src(0, 2), sku="S", reserved=0, released=2))
    assert view is not None
    assert (view["reserved"], view["released"], view["held"]) == (3, 2, 1)
    assert apply_sku(view, SkuDelta(source=src(0, 2), sku="S", reserved=0, released=2)) is None


def test_stats_move_orders_between_statuses_and_sum_revenue_per_hour() -> None:
    deltas = [
        StatsDelta(source=src(0, 1), from_status=None, to_status="placed", revenue_minor=0, currency="EUR",
                   hour="2026-01-01T10:00Z"),
        StatsDelta(source=src(0, 2), from_status="placed", to_status="paid", revenue_minor=500,
                   currency="EUR", hour="2026-01-01T10:00Z"),
        StatsDelta(source=src(1, 1), from_status=None, to_status="placed", revenue_minor=0, currency="EUR",
                   hour="2026-01-01T11:00Z"),
    ]
    view = None
    for delta in deltas:
        view = apply_stats(view, delta) or view
    assert view is not None
    assert view["orders_by_status"] == {"placed": 1, "paid": 1}
    assert view["revenue_minor_by_hour"] == {"2026-01-01T10:00Z": {"EUR": 500}}
    assert view["revenue_minor_total"] == {"EUR": 500}
    assert apply_stats(view, deltas[1]) is None
