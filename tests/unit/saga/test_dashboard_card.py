"""The saga's card on /dashboard (``agents.dashboard``) reads what ``agents.saga.metrics`` counts: every stat names
a metric the saga registers, and sagas driven through ``advance`` show up in it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from agents.app import create_app
from agents.dashboard import SAGA_CARD
from agents.saga.metrics import SagaMetrics
from agents.settings import OrderSettings
from streams.replay.rebuilds import RebuildLog
from streams.settings import Settings
from streams.web.cards import read_card
from tests.unit.saga.test_steps import Saga, event, placed_saga


def card(registry: CollectorRegistry) -> dict[str, float | None]:
    body = read_card(SAGA_CARD, registry)
    assert [stat.get("error") for stat in body["stats"]] == [None] * len(SAGA_CARD.stats)
    return {stat["label"]: stat["value"] for stat in body["stats"]}


def test_the_card_counts_sagas_by_how_they_ended_and_their_p99() -> None:
    registry = CollectorRegistry()
    waiting = 0.0
    metrics = SagaMetrics(registry, running=lambda: waiting)
    assert card(registry) == {"Started": 0, "Completed": 0, "Compensated": 0, "Failed": 0, "Became stuck": 0,
                              "Waiting now": 0, "Duration p99": None}

    def run(saga: Saga, *events: str) -> None:
        for name in events:
            saga.feed(event(name))
        for decision in saga.decisions:
            metrics.count(decision)

    # an input a second (Saga.feed): each saga ends as many seconds after OrderPlaced as it took inputs after it
    run(placed_saga(), "PaymentAuthorized", "InventoryReserved", "ShipmentCreated")  # completed, 3 s
    run(placed_saga(), "PaymentFailed")  # failed: nothing to undo, 1 s
    run(placed_saga(), "PaymentAuthorized", "InventoryReservationFailed", "PaymentRefunded")  # compensated, 3 s
    stuck = placed_saga()
    run(stuck, "PaymentAuthorized", "InventoryReservationFailed")
    for _ in range(3):  # the refund never answers
        stuck.now += timedelta(minutes=5)
        metrics.count(stuck.timeout())
    assert stuck.s["status"] == "stuck"
    waiting = 2.0
    got = card(registry)
    assert {k: v for k, v in got.items() if k != "Duration p99"} == {
        "Started": 4, "Completed": 1, "Compensated": 1, "Failed": 1, "Became stuck": 1, "Waiting now": 2}
    # 1, 3 and 3 s in buckets (0.5, 1] and (2.5, 5]: rank 2.97 is 1.97 of the 2 in (2.5, 5]
    assert got["Duration p99"] == pytest.approx(2.5 + 2.5 * 1.97 / 2)


def test_a_worker_with_the_saga_shows_its_card_and_one_without_does_not(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(RebuildLog, "latest", lambda self, group: {})  # no broker here: no rebuild under way
    with_saga = create_app(Settings(data_dir=tmp_path / "a", app_id="card-a"), domain=OrderSettings(saga=True))
    without = create_app(Settings(data_dir=tmp_path / "b", app_id="card-b"), domain=OrderSettings(saga=False))
    assert with_saga.cards == [SAGA_CARD]
    assert without.cards == []
