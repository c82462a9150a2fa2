"""The bench's check of read models: what the real projection makes of the bench's orders passes, and each way a
baseline has been wrong (a customer kept once per source partition, the stats row split, a row missing or extra)
fails; the baselines' decoder reads what our producer writes."""

import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import fastavro
import orjson
import pytest

import agents  # noqa: F401  # the real packages first: bench.baseline_domain then leaves them as they are
from agents.orders.projection import EventMeta, apply_order
from agents.readmodels.customers import apply_customer
from agents.readmodels.stats import STATS_KEY, apply_stats
from bench.baseline_domain import Decoder
from bench.readmodels_check import CUSTOMERS, MAX_SHOWN, check_read_models, expected_customer, spread_keys
from streams.position import Position
from tests.support import placed

N = CUSTOMERS * 2 + 7  # some customers with three orders, the others with two


def read_models(n: int) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The orders, customers and stats our pure functions make of ``bench.pipeline.produce``'s ``n`` orders."""
    orders: dict[str, Any] = {}
    customers: dict[str, Any] = {}
    stats: Any = None
    for i in range(n):
        event = placed(f"o-{i}", f"c-{i % CUSTOMERS}", total_minor=1500,
                       items=[{"sku": f"sku-{i % 300}", "quantity": 3, "unit_price_minor": 500}])
        meta = EventMeta(f"e-{i}", "OrderPlaced", Position("orders", i % 4, i // 4), datetime.now(UTC))
        outcome = apply_order(None, event, meta)
        orders[event.order_id] = outcome.view
        for delta in outcome.customers:
            customers[delta["customer_id"]] = apply_customer(customers.get(delta["customer_id"]), delta)
        for st in outcome.stats:
            stats = apply_stats(stats, st)
    return orders, customers, stats


@pytest.fixture(scope="module")
def right() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    return read_models(N)


def test_the_projections_answer_is_right(right: tuple[dict[str, Any], dict[str, Any], dict[str, Any]]) -> None:
    assert check_read_models(N, *right) == []


def test_a_customer_with_one_of_its_orders_missing_is_wrong(
        right: tuple[dict[str, Any], dict[str, Any], dict[str, Any]]) -> None:
    orders, customers, stats = right
    # what a table written from orders partitions gives a read: the copy of one partition, a part of the orders
    part = {**customers["c-3"], "order_count": 1, "order_ids": ["o-3"], "lifetime_value_minor": {"EUR": 1500}}
    problems = check_read_models(N, orders, {**customers, "c-3": part}, stats)
    assert problems == ["customers: c-3: 1 orders worth {'EUR': 1500}, expected 3 worth {'EUR': 4500} "
                        "(order ids differ)"]


def test_a_customers_order_ids_in_another_order_are_right(
        right: tuple[dict[str, Any], dict[str, Any], dict[str, Any]]) -> None:
    orders, customers, stats = right
    shuffled = {**customers["c-3"], "order_ids": list(reversed(customers["c-3"]["order_ids"]))}
    assert check_read_models(N, orders, {**customers, "c-3": shuffled}, stats) == []


def test_a_split_stats_row_is_wrong(right: tuple[dict[str, Any], dict[str, Any], dict[str, Any]]) -> None:
    orders, customers, stats = right
    quarter = {**stats, "orders_by_status": {"placed": N // 4}}
    assert check_read_models(N, orders, customers, quarter) == [
        f"stats: orders by status {{'placed': {N // 4}}}, expected {{'placed': {N}}}"]
    assert check_read_models(N, orders, customers, None) == ["stats: no stats row"]
    assert check_read_models(N, orders, customers, {**stats, "revenue_minor_total": {"EUR": 1}}) == [
        "stats: revenue {'EUR': 1}, expected none"]


def test_missing_and_extra_rows_are_wrong_and_many_problems_are_counted(
        right: tuple[dict[str, Any], dict[str, Any], dict[str, Any]]) -> None:
    orders, customers, stats = right
    fewer = {key: view for key, view in orders.items() if key not in {f"o-{i}" for i in range(10)}}
    problems = check_read_models(N, {**fewer, "o-x": orders["o-0"]}, {**customers, "c-x": customers["c-0"]}, stats)
    assert problems[:MAX_SHOWN] == [f"orders: o-{i} missing" for i in range(MAX_SHOWN)]
    assert problems[MAX_SHOWN:] == ["orders: 6 more problems (11 in all)", "customers: c-x: not a customer with orders"]
    cancelled = {**orders["o-7"], "status": "cancelled"}
    assert check_read_models(N, {**orders, "o-7": cancelled}, customers, stats) == [
        "orders: o-7: status cancelled, customer c-7, total 1500"]


def test_expected_customer_and_fewer_orders_than_customers() -> None:
    assert expected_customer(2, 2 * CUSTOMERS + 3) == {
        "customer_id": "c-2", "order_count": 3, "lifetime_value_minor": {"EUR": 4500},
        "order_ids": sorted(["o-2", f"o-{CUSTOMERS + 2}", f"o-{2 * CUSTOMERS + 2}"])}
    assert check_read_models(10, *read_models(10)) == []  # only c-0 to c-9 have orders


def test_spread_keys_are_keys_in_more_than_one_partition() -> None:
    assert spread_keys([("c-1", 0), ("c-2", 1), ("c-1", 0), ("c-1", 3), (STATS_KEY, 2)]) == {"c-1": {0, 3}}
    assert spread_keys([]) == {}


def test_the_baselines_decoder_reads_what_our_producer_writes() -> None:
    schema = fastavro.parse_schema(orjson.loads(Path("schemas/OrderPlaced.avsc").read_bytes()))
    body = io.BytesIO()
    fastavro.schemaless_writer(body, schema, {
        "order_id": "o-1", "customer_id": "c-1", "currency": "EUR", "total_minor": 1500,
        "placed_at": datetime(2026, 11, 22, 10, tzinfo=UTC),
        "items": [{"sku": "sku-1", "quantity": 3, "unit_price_minor": 500}]})
    decoder = Decoder("http://registry.invalid")
    decoder._schemas[7] = schema  # what it would have fetched for id 7
    headers = [("event_id", b"e-1"), ("event_type", b"OrderPlaced"), ("occurred_at", b"2026-11-22T10:00:01.000Z")]
    event, meta = decoder.decode(b"\x00" + (7).to_bytes(4, "big") + body.getvalue(), headers,
                                 Position("orders", 2, 41))
    outcome = apply_order(None, event, meta)
    assert outcome.kind == "applied"
    assert outcome.view is not None
    assert (outcome.view["customer_id"], outcome.view["items"], outcome.view["placed_at"]) == (
        "c-1", [{"sku": "sku-1", "quantity": 3, "unit_price_minor": 500}], "2026-11-22T10:00:00Z")
    assert (meta.event_id, meta.occurred_at) == ("e-1", datetime(2026, 11, 22, 10, 0, 1, tzinfo=UTC))
    with pytest.raises(ValueError, match="Confluent wire format"):
        decoder.decode(b"\x07garbage", headers, Position("orders", 2, 42))
