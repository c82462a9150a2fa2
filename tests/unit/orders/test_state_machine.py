import pytest

from agents.orders.state_machine import OPEN_STATUSES, STATUSES, TRANSITIONS, next_status


def test_happy_path() -> None:
    status = None
    for event, expected in [("OrderPlaced", "placed"), ("PaymentAuthorized", "paid"),
                            ("InventoryReserved", "reserved"), ("OrderShipped", "shipped"),
                            ("OrderCompleted", "completed")]:
        status = next_status(status, event)
        assert status == expected


@pytest.mark.parametrize("status", OPEN_STATUSES)
def test_any_open_order_can_be_cancelled(status: str) -> None:
    assert next_status(status, "OrderCancelled") == "cancelled"


@pytest.mark.parametrize(("status", "event"), [
    (None, "PaymentAuthorized"), ("placed", "OrderPlaced"), ("placed", "OrderShipped"),
    ("shipped", "OrderCancelled"), ("completed", "OrderCancelled"), ("cancelled", "PaymentAuthorized"),
    ("paid", "PaymentRefunded"), ("placed", "NoSuchEvent"),
])
def test_disallowed_transitions(status: str | None, event: str) -> None:
    assert next_status(status, event) is None


def test_table_only_names_known_statuses() -> None:
    for moves in TRANSITIONS.values():
        for source, target in moves.items():
            assert source is None or source in STATUSES
            assert target in STATUSES
