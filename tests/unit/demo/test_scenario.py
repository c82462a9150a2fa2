"""The demo's stories: each one a path the lifecycle allows, with the ids and checks the runner relies on."""

from __future__ import annotations

import itertools
from collections import defaultdict
from typing import Any

import pytest

from agents.demo import STORIES, scenario
from agents.events import EventCatalog
from agents.fanout import FRAUD_REVIEW_OVER_MINOR
from agents.orders.state_machine import next_status
from streams.demo import DemoStep


def by_order(steps: tuple[DemoStep, ...]) -> dict[str, list[dict[str, Any]]]:
    orders: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for step in steps:
        orders[step.body["data"]["order_id"]].append(step.body)
    return orders


@pytest.mark.parametrize("seed", [0, 1, 7, 2026])
def test_every_order_follows_the_lifecycle_to_the_status_its_check_expects(seed: int) -> None:
    demo = scenario(orders=20, seed=seed)
    orders = by_order(demo.steps)
    assert len(orders) == 20
    expected = {c.path.removeprefix("/orders/"): c.expect["status"]
                for c in demo.checks if c.path.startswith("/orders/")}
    assert set(expected) == set(orders)
    for order_id, bodies in orders.items():
        status = None
        for body in bodies:
            status = next_status(status, body["type"])
            assert status is not None, f"{order_id}: {body['type']} is not allowed here"
        assert status == expected[order_id]


def test_every_event_is_valid_for_its_model() -> None:
    catalog = EventCatalog.load()
    for step in scenario(orders=15, seed=3).steps:
        catalog.validate(step.body["type"], step.body["data"])


def test_correlation_is_the_order_and_causation_the_event_before() -> None:
    for bodies in by_order(scenario(orders=10, seed=5).steps).values():
        first = bodies[0]
        assert first["type"] == "OrderPlaced"
        assert first["causation_id"] == first["correlation_id"] == first["event_id"]
        for before, after in itertools.pairwise(bodies):
            assert after["correlation_id"] == first["event_id"]
            assert after["causation_id"] == before["event_id"]
    ids = [step.body["event_id"] for step in scenario(orders=10, seed=5).steps]
    assert len(set(ids)) == len(ids)


def test_each_check_waits_for_every_write_that_changes_its_read_model() -> None:
    demo = scenario(orders=12, seed=9)
    for check in demo.checks:
        if check.path.startswith("/orders/"):
            order_id = check.path.removeprefix("/orders/")
            [last] = check.after  # one order, one partition: its last event covers the rest
            assert demo.steps[last].body["data"]["order_id"] == order_id
            assert all(s.body["data"]["order_id"] != order_id for s in demo.steps[last + 1:])
        else:
            customer = check.path.removeprefix("/customers/")
            placed = [n for n, s in enumerate(demo.steps) if s.body["type"] == "OrderPlaced"
                      and s.body["data"]["customer_id"] == customer]
            assert check.expect == {"order_count": len(placed)}
            assert check.after == tuple(placed)  # orders of one customer live on several partitions
    counts = [c.expect["order_count"] for c in demo.checks if c.path.startswith("/customers/")]
    assert sum(counts) == 12  # every order belongs to exactly one customer


def test_every_story_is_told_and_only_the_first_order_goes_to_fraud_review() -> None:
    demo = scenario(orders=len(STORIES) + 30, seed=11)
    statuses = {c.expect["status"] for c in demo.checks if "status" in c.expect}
    assert statuses == {story.final_status for story in STORIES}
    totals = [s.body["data"]["total_minor"] for s in demo.steps if s.body["type"] == "OrderPlaced"]
    first = next(s.body for s in demo.steps
                 if s.body["type"] == "OrderPlaced" and s.body["data"]["order_id"].endswith("-001"))
    assert first["data"]["total_minor"] > FRAUD_REVIEW_OVER_MINOR
    assert sum(total > FRAUD_REVIEW_OVER_MINOR for total in totals) == 1


def test_the_seed_decides_the_events() -> None:
    assert scenario(orders=6, seed=4) == scenario(orders=6, seed=4)
    assert scenario(orders=6, seed=4).poison_key != scenario(orders=6, seed=5).poison_key
    assert not set(by_order(scenario(orders=6, seed=4).steps)) & set(by_order(scenario(orders=6, seed=5).steps))


def test_at_least_one_order() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        scenario(orders=0, seed=1)
