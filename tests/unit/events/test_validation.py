import pytest

from agents.events import EventCatalog
from streams.errors import ValidationError
from tests.support import NOW


@pytest.fixture(scope="module")
def catalog() -> EventCatalog:
    return EventCatalog.load()


def test_field_level_errors_name_each_field(catalog: EventCatalog) -> None:
    with pytest.raises(ValidationError) as info:
        catalog.validate("OrderPlaced", {"order_id": "", "customer_id": "c", "items": [], "total_minor": -1,
                                         "currency": "euro", "placed_at": "2026-01-01T00:00:00"})
    fields = {d["field"] for d in info.value.details or []}
    assert {"order_id", "items", "total_minor", "currency", "placed_at"} <= fields
    assert info.value.http_status == 422


def test_total_must_equal_items(catalog: EventCatalog) -> None:
    with pytest.raises(ValidationError) as info:
        catalog.validate("OrderPlaced", {"order_id": "o", "customer_id": "c", "currency": "EUR", "placed_at": NOW,
                                         "items": [{"sku": "a", "quantity": 2, "unit_price_minor": 5}],
                                         "total_minor": 11})
    assert "sum of items 10" in str(info.value.details)


def test_unknown_type_and_extra_fields_are_refused(catalog: EventCatalog) -> None:
    with pytest.raises(ValidationError, match="unknown event type"):
        catalog.validate("OrderTeleported", {})
    with pytest.raises(ValidationError):
        catalog.validate("OrderCompleted", {"order_id": "o", "completed_at": NOW, "surprise": 1})


def test_full_names_are_accepted(catalog: EventCatalog) -> None:
    event = catalog.validate("com.acme.orders.OrderCompleted", {"order_id": "o", "completed_at": NOW})
    assert event.order_id == "o"
