import pytest

from agents.orders.state_machine import OPEN_STATUSES, STATUSES, TRANSITIONS, next_status


@pytest.mark.parametrize("shipped", ["OrderShipped", "ShipmentCreated"])
def test_happy_path(shipped: str) -> None:
    """OrderShipped (a producer that ships by itself) and ShipmentCreated (the saga's shipping reply) both ship."""
    status = None
    for event, expected in [("OrderPlaced", "placed"), ("PaymentAuthorized", "paid"),
                            ("InventoryReserved", "reserved"), (shipped, "shipped"),
                            ("OrderCompleted", "completed")]:
        status = next_status(status, event)
        assert status == expected


@pytest.mark.parametrize(("events", "statuses"), [
    (["PaymentFailed", "OrderFailed"], ["payment_failed", "failed"]),
    (["PaymentAuthorized", "InventoryReservationFailed", "PaymentRefunded", "OrderFailed"],
     ["paid", "reservation_failed", "reservation_failed", "failed"]),
    (["PaymentAuthorized", "InventoryReserved", "ShipmentFailed", "InventoryReleased", "PaymentRefunded",
      "OrderFailed"],
     ["paid", "reserved", "shipment_failed", "shipment_failed", "shipment_failed", "failed"]),
], ids=["payment", "reservation", "shipment"])
def test_a_failed_step_is_undone_and_then_the_order_fails(events: list[str], statuses: list[str]) -> None:
    """The saga's failure paths: the compensations land in the *_failed status, OrderFailed last."""
    status: str | None = "placed"
    seen = []
    for event in events:
        status = next_status(status, event)
        seen.append(status)
    assert seen == statuses


@pytest.mark.parametrize("status", ["placed", "paid", "reserved", "payment_failed", "reservation_failed",
                                    "shipment_failed"])
def test_the_saga_can_fail_an_order_from_any_step_it_waits_in(status: str) -> None:
    assert next_status(status, "OrderFailed") == "failed"


@pytest.mark.parametrize("status", [None, "shipped", "completed", "cancelled", "failed"])
def test_an_order_shipped_cancelled_or_ended_cannot_fail(status: str | None) -> None:
    assert next_status(status, "OrderFailed") is None


@pytest.mark.parametrize("event", ["PaymentRefunded", "InventoryReleased"])
@pytest.mark.parametrize("status", ["cancelled", "failed", "reservation_failed", "shipment_failed"])
def test_compensations_are_recorded_and_keep_the_status(status: str, event: str) -> None:
    assert next_status(status, event) == status


@pytest.mark.parametrize("event", ["PaymentRefunded", "InventoryReleased"])
@pytest.mark.parametrize("status", [None, "placed", "paid", "reserved", "shipped", "completed", "payment_failed"])
def test_compensations_are_refused_where_nothing_is_undone(status: str | None, event: str) -> None:
    assert next_status(status, event) is None


@pytest.mark.parametrize("event", sorted(TRANSITIONS))
@pytest.mark.parametrize("status", ["completed", "cancelled", "failed"])
def test_terminal_statuses_are_never_left(status: str, event: str) -> None:
    assert next_status(status, event) in (None, status)


def test_shipment_failed_is_open_to_cancellation_failed_is_not() -> None:
    assert "shipment_failed" in OPEN_STATUSES
    assert "failed" not in OPEN_STATUSES
    assert next_status("shipment_failed", "OrderCancelled") == "cancelled"


@pytest.mark.parametrize("status", OPEN_STATUSES)
def test_any_open_order_can_be_cancelled(status: str) -> None:
    assert next_status(status, "OrderCancelled") == "cancelled"


@pytest.mark.parametrize(("status", "event"), [
    (None, "PaymentAuthorized"), ("placed", "OrderPlaced"), ("placed", "OrderShipped"),
    ("shipped", "OrderCancelled"), ("completed", "OrderCancelled"), ("cancelled", "PaymentFailed"),
    ("paid", "PaymentRefunded"), ("placed", "NoSuchEvent"),
    ("placed", "ShipmentCreated"), ("paid", "ShipmentCreated"), ("shipped", "ShipmentCreated"),
    ("paid", "ShipmentFailed"), ("shipped", "ShipmentFailed"), ("shipment_failed", "ShipmentCreated"),
    ("failed", "InventoryReservationFailed"), ("shipment_failed", "OrderCompleted"),
])
def test_disallowed_transitions(status: str | None, event: str) -> None:
    assert next_status(status, event) is None


def test_table_only_names_known_statuses() -> None:
    for moves in TRANSITIONS.values():
        for source, target in moves.items():
            assert source is None or source in STATUSES
            assert target in STATUSES


def test_every_status_can_be_reached() -> None:
    reached = {target for moves in TRANSITIONS.values() for target in moves.values()}
    assert reached == set(STATUSES)
