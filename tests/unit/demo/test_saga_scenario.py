"""The saga's demo stories: orders only, each one's end predicted from the simulated services' settings."""

from __future__ import annotations

from collections import defaultdict

import pytest

from agents.demo import SagaStall, create_demo, predict, saga_scenario
from agents.events import EventCatalog
from agents.saga.state import record_id
from agents.services.base import chance
from agents.settings import OrderSettings
from streams.settings import Settings

SIM = OrderSettings(sim_payment_limit_minor=100_000, sim_stock=5)


def ends(domain: OrderSettings, orders: int = 12, seed: int = 3) -> dict[str, tuple[str, str | None]]:
    demo = saga_scenario(orders=orders, seed=seed, domain=domain)
    return {w.path.removeprefix("/sagas/"): (w.expect["status"], w.expect["failed_step"]) for w in demo.watches}


def test_only_orders_are_placed_and_every_one_is_valid_and_watched() -> None:
    demo = saga_scenario(orders=12, seed=3, domain=SIM)
    catalog = EventCatalog.load()
    for step in demo.steps:
        assert step.body["type"] == "OrderPlaced"
        catalog.validate("OrderPlaced", step.body["data"])
    ids = [step.body["data"]["order_id"] for step in demo.steps]
    assert [w.path for w in demo.watches] == [f"/sagas/{i}" for i in ids]
    assert [w.then[0].path for w in demo.watches] == [f"/orders/{i}" for i in ids]
    assert sum(c.expect["order_count"] for c in demo.checks) == 12


def test_every_story_is_told_with_four_orders() -> None:
    assert list(ends(SIM, orders=4).values()) == [
        ("failed", "payment"),  # the big ticket: 125,000 > the limit of 100,000
        ("failed", "payment"),  # over the limit
        ("completed", None),  # takes the 5 units
        ("compensated", "inventory"),  # then finds none: refunded
    ]
    assert list(ends(OrderSettings(sim_stock=5), orders=2).values()) == [("completed", None), ("failed", "payment")]


def test_the_out_of_stock_order_waits_until_the_units_are_taken() -> None:
    demo = saga_scenario(orders=4, seed=3, domain=SIM)
    taker, short = demo.steps[2], demo.steps[3]
    assert taker.gate is None
    assert taker.body["data"]["items"][0]["quantity"] == 5
    assert short.gate is not None
    assert short.gate.path == f"/sagas/{taker.body['data']['order_id']}"
    assert short.gate.opened_by({"step": "shipment"})
    assert short.gate.opened_by({"step": None})
    assert not short.gate.opened_by({"step": "inventory"})
    # A taker whose shipment fails gives its units back at once: the other waits for its end, and gets them.
    failing = saga_scenario(orders=4, seed=3, domain=SIM.model_copy(update={"sim_shipping_failure_rate": 1.0}))
    gate = failing.steps[3].gate
    assert gate is not None
    assert gate.field == "status"
    assert not gate.opened_by({"status": "running"})
    assert [w.expect["failed_step"] for w in failing.watches[2:]] == ["shipment", "shipment"]


def test_declines_follow_the_payment_service_hash_of_the_command_id() -> None:
    domain = OrderSettings(sim_payment_failure_rate=0.5)
    found = ends(domain, orders=40, seed=8)
    declined = {o for o, end in found.items() if end == ("failed", "payment")}
    by_hash = {o for o in found if chance(record_id(o, "AuthorizePayment"), "payment") < 0.5}
    assert declined == by_hash
    assert 0 < len(declined) < 40


def test_a_silent_shipping_service_times_out_every_shipment_and_the_wait_covers_it() -> None:
    silent = OrderSettings(sim_silent="shipping", saga_step_timeout_s=2, saga_max_attempts=3)
    demo = saga_scenario(orders=6, seed=4, domain=silent)
    assert {(w.expect["status"], w.expect["failed_step"]) for w in demo.watches} <= {
        ("compensated", "shipment"), ("compensated", "inventory"), ("failed", "payment")}
    assert demo.watch_s > 2 * 2 * (1 + 2 + 4)  # two chains of timeouts: the held-back order waits for one
    assert any("every shipment times out" in note for note in demo.notes)
    assert any("timeout story is left out" in note for note in saga_scenario(orders=6, seed=4, domain=SIM).notes)


def test_orders_sharing_a_sku_never_ask_more_than_the_stock() -> None:
    for stock in (1, 2, 5, 100):
        demo = saga_scenario(orders=60, seed=stock, domain=OrderSettings(sim_stock=stock))
        asked: dict[str, int] = defaultdict(int)
        for step, watch in zip(demo.steps, demo.watches, strict=True):
            if watch.expect["status"] == "completed":
                for item in step.body["data"]["items"]:
                    asked[item["sku"]] += item["quantity"]
        assert asked
        assert max(asked.values()) <= stock


def test_predictions() -> None:
    assert predict("o", 10, True, OrderSettings()).saga_status == "completed"
    assert predict("o", 10, False, OrderSettings()).failed_step == "inventory"
    assert predict("o", 10**6, True, SIM).why == "declined: over the payment limit"
    assert predict("o", 10, True, OrderSettings(sim_silent="payments")).saga_status == "failed"
    assert predict("o", 10, True, OrderSettings(sim_silent="inventory")).saga_status == "compensated"


def test_a_saga_is_stalled_when_its_command_went_again_to_a_service_not_meant_to_be_silent() -> None:
    command = {"kind": "command", "type": "AuthorizePayment"}
    again = {"status": "running", "step": "payment", "history": [command, command]}
    line = SagaStall(frozenset())(again)
    assert line is not None
    assert "nobody answers on payments" in line
    assert "STREAMS_SIMULATED_SERVICES=true" in line
    assert SagaStall(frozenset({"payments"}))(again) is None
    assert SagaStall(frozenset())({**again, "history": [command]}) is None
    assert SagaStall(frozenset())({"status": "completed", "step": None, "history": [command, command]}) is None
    stuck = SagaStall(frozenset({"payments"}))({"status": "stuck", "step": "refund", "history": []})
    assert stuck is not None
    assert "POST /sagas/<order_id>/retry" in stuck


@pytest.mark.parametrize(("saga", "watched"), [("true", True), ("false", False)])
def test_the_saga_setting_chooses_the_stories(monkeypatch: pytest.MonkeyPatch, saga: str, watched: bool) -> None:
    monkeypatch.setenv("STREAMS_SAGA", saga)
    demo = create_demo(Settings(), orders=5, seed=1)
    assert bool(demo.watches) is watched
    placed_only = {step.body["type"] for step in demo.steps} == {"OrderPlaced"}
    assert placed_only is watched  # the told stories carry the services' answers too
