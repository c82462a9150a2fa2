"""What the read models must say after the bench's produced orders, and a check of any app's read models against it.

Pure (no Kafka, no HTTP): each bench reads an app's read models back its own way (our worker over HTTP, the others
from their changelogs) and hands them here as plain mappings, so that every app is held to the same answer.

``bench.pipeline.produce`` writes ``n`` OrderPlaced events: order ``o-<i>`` of customer ``c-<i % CUSTOMERS>``, in
EUR, 1500 minor units, one item of SKU ``sku-<i % 300>``.  After them, every order is ``placed``; a customer has
placed every ``CUSTOMERS``-th order from its index on, each worth 1500; the stats count ``n`` placed orders and no
revenue (revenue is counted on payment); no SKU has stock reserved (reservation is an event of its own).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["CUSTOMERS", "MAX_SHOWN", "check_read_models", "expected_customer", "spread_keys"]

CUSTOMERS = 5000
"""How many customers ``bench.pipeline.produce`` spreads the orders over."""

MAX_SHOWN = 5
"""Problems of one kind spelled out; the rest are counted."""


def expected_customer(index: int, n: int) -> dict[str, Any]:
    """What customer ``c-<index>`` must say after ``n`` orders: its count, value and order ids, sorted (the orders
    of one customer come from every ``orders`` partition, so the view lists them in no set order; for up to 1000
    orders a customer, which the view keeps all of)."""
    ids = sorted(f"o-{i}" for i in range(index, n, CUSTOMERS))
    return {"customer_id": f"c-{index}", "order_count": len(ids), "lifetime_value_minor": {"EUR": 1500 * len(ids)},
            "order_ids": ids}


def check_read_models(n: int, orders: Mapping[str, Any], customers: Mapping[str, Any],
                      stats: Mapping[str, Any] | None) -> list[str]:
    """The problems of one app's read models after ``n`` produced orders (an empty list: right).

    ``orders`` and ``customers``: every row the app has, by key (an app that wrote rows nobody asked for is wrong
    too); ``stats``: the one stats row, None if the app has none."""
    problems: list[str] = []
    _section(problems, "orders", _order_problems(n, orders))
    _section(problems, "customers", _customer_problems(n, customers))
    if stats is None:
        problems.append("stats: no stats row")
    else:
        placed = stats.get("orders_by_status", {})
        if placed != {"placed": n}:
            problems.append(f"stats: orders by status {placed}, expected {{'placed': {n}}}")
        if stats.get("revenue_minor_total"):
            problems.append(f"stats: revenue {stats['revenue_minor_total']}, expected none")
    return problems


def spread_keys(rows: Iterable[tuple[str, int]]) -> dict[str, set[int]]:
    """Keys written to more than one partition of one table's changelog, with those partitions: a row kept once
    per source partition (a table written from another topic's partitions), of which a read finds only one."""
    partitions: dict[str, set[int]] = {}
    for key, partition in rows:
        partitions.setdefault(key, set()).add(partition)
    return {key: parts for key, parts in partitions.items() if len(parts) > 1}


def _order_problems(n: int, orders: Mapping[str, Any]) -> Iterable[str]:
    for i in range(n):
        view = orders.get(f"o-{i}")
        if view is None:
            yield f"o-{i} missing"
        elif (view.get("status"), view.get("customer_id"), view.get("total_minor")) != (
                "placed", f"c-{i % CUSTOMERS}", 1500):
            yield f"o-{i}: status {view.get('status')}, customer {view.get('customer_id')}, " \
                  f"total {view.get('total_minor')}"
    expected = {f"o-{i}" for i in range(n)}
    for key in sorted(set(orders) - expected):
        yield f"{key}: not an order produced"


def _customer_problems(n: int, customers: Mapping[str, Any]) -> Iterable[str]:
    for index in range(min(n, CUSTOMERS)):
        want = expected_customer(index, n)
        view = customers.get(want["customer_id"])
        if view is None:
            yield f"{want['customer_id']} missing"
            continue
        got = {field: view.get(field) for field in want}
        got["order_ids"] = sorted(got["order_ids"] or [])
        if got != want:
            yield f"{want['customer_id']}: {got['order_count']} orders worth {got['lifetime_value_minor']}, " \
                  f"expected {want['order_count']} worth {want['lifetime_value_minor']}" + \
                  ("" if got["order_ids"] == want["order_ids"] else " (order ids differ)")
    expected = {f"c-{index}" for index in range(min(n, CUSTOMERS))}
    for key in sorted(set(customers) - expected):
        yield f"{key}: not a customer with orders"


def _section(problems: list[str], name: str, found: Iterable[str]) -> None:
    found = list(found)
    problems.extend(f"{name}: {problem}" for problem in found[:MAX_SHOWN])
    if len(found) > MAX_SHOWN:
        problems.append(f"{name}: {len(found) - MAX_SHOWN} more problems ({len(found)} in all)")
