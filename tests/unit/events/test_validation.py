"""Invalid content is a streams ValidationError listing {field, message} per bad field."""

from typing import Any

import pydantic
import pytest

from agents.events import EventCatalog, event_type, from_avro, parse
from agents.events.models import OrderPlaced, PaymentAuthorized
from streams.errors import ValidationError
from tests.support import NOW, placed


@pytest.fixture(scope="module")
def catalog() -> EventCatalog:
    return EventCatalog.load()


def fields(info: pytest.ExceptionInfo[ValidationError]) -> dict[str, str]:
    return {d["field"]: d["message"] for d in info.value.details or []}


def test_field_level_errors_name_each_field(catalog: EventCatalog) -> None:
    with pytest.raises(ValidationError) as info:
        catalog.validate("OrderPlaced", {"order_id": "", "customer_id": "c", "items": [], "total_minor": -1,
                                         "currency": "euro", "placed_at": "2026-01-01T00:00:00"})
    assert {"order_id", "items", "total_minor", "currency", "placed_at"} <= set(fields(info))
    assert info.value.http_status == 422
    assert info.value.dead_letter


def test_nested_fields_are_dotted_with_their_index() -> None:
    data = {**placed().model_dump(), "items": [{"sku": "a", "quantity": 1, "unit_price_minor": 5},
                                               {"sku": "b", "quantity": 0, "unit_price_minor": 5}]}
    with pytest.raises(ValidationError) as info:
        from_avro("OrderPlaced", data)
    assert list(fields(info)) == ["items.1.quantity"]


def test_total_must_equal_items(catalog: EventCatalog) -> None:
    with pytest.raises(ValidationError) as info:
        catalog.validate("OrderPlaced", {"order_id": "o", "customer_id": "c", "currency": "EUR", "placed_at": NOW,
                                         "items": [{"sku": "a", "quantity": 2, "unit_price_minor": 5}],
                                         "total_minor": 11})
    assert "sum of items 10" in fields(info)["(event)"]


@pytest.mark.parametrize("amount", [12.0, 12.5, "12", True])
def test_money_is_an_integer_never_a_float_string_or_bool(amount: Any) -> None:
    with pytest.raises(ValidationError) as info:
        parse(PaymentAuthorized, {"order_id": "o", "payment_id": "p", "amount_minor": amount, "currency": "EUR",
                                  "authorized_at": NOW})
    assert list(fields(info)) == ["amount_minor"]


def test_times_need_a_zone() -> None:
    with pytest.raises(ValidationError) as info:
        parse(OrderPlaced, {**placed().model_dump(), "placed_at": "2026-01-01T00:00:00"})
    assert "time zone" in fields(info)["placed_at"]


def test_unknown_type_and_extra_fields_are_refused(catalog: EventCatalog) -> None:
    with pytest.raises(ValidationError, match="unknown event type") as info:
        catalog.validate("OrderTeleported", {})
    assert list(fields(info)) == ["type"]
    with pytest.raises(ValidationError) as info:
        catalog.validate("OrderCompleted", {"order_id": "o", "completed_at": NOW, "surprise": 1})
    assert list(fields(info)) == ["surprise"]


def test_not_an_object_is_refused_as_a_whole() -> None:
    with pytest.raises(ValidationError) as info:
        from_avro("OrderCompleted", None)  # type: ignore[arg-type]
    assert list(fields(info)) == ["(event)"]


def test_full_names_are_accepted(catalog: EventCatalog) -> None:
    event = catalog.validate("com.acme.orders.OrderCompleted", {"order_id": "o", "completed_at": NOW})
    assert event.order_id == "o"
    assert event_type("com.acme.orders.OrderCompleted") is event_type("OrderCompleted")


def test_events_are_frozen() -> None:
    event = placed()
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        event.order_id = "other"  # type: ignore[misc]


def test_a_rule_over_several_fields_says_it_plainly(catalog: EventCatalog) -> None:
    with pytest.raises(ValidationError) as info:
        catalog.validate("OrderPlaced", {"order_id": "o", "customer_id": "c", "currency": "EUR", "placed_at": NOW,
                                         "items": [{"sku": "a", "quantity": 2, "unit_price_minor": 5}],
                                         "total_minor": 11})
    assert info.value.message == "OrderPlaced is not valid: (event): total_minor 11 != sum of items 10"
