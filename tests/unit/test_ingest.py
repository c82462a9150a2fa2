"""POST /events bodies that are not an event say which part is missing or wrong (before any Avro or Kafka)."""

from __future__ import annotations

from typing import Any, cast

import pytest

from agents.events import EventCatalog
from agents.ingest import OrderIngest
from streams.errors import ValidationError


@pytest.fixture(scope="module")
def ingest() -> OrderIngest:
    # prepare() fails before it encodes or sends: no registry client, no producer
    return OrderIngest(EventCatalog.load(), cast(Any, None), cast(Any, None), "test", "orders")


def test_a_missing_data_is_named(ingest: OrderIngest) -> None:
    with pytest.raises(ValidationError) as info:
        ingest.prepare({"type": "OrderPlaced"})
    assert info.value.message.startswith('"data" is missing')
    assert "OrderPlaced" in info.value.message
    assert info.value.details == [{"field": "data", "message": "required"}]


@pytest.mark.parametrize(("data", "said"), [(None, "null"), ([], "an array"), ("x", "a string"), (3, "a number"),
                                            (True, "a boolean")])
def test_data_that_is_not_an_object_says_what_it_is(ingest: OrderIngest, data: Any, said: str) -> None:
    with pytest.raises(ValidationError) as info:
        ingest.prepare({"type": "OrderPlaced", "data": data})
    assert info.value.message == f'"data" must be a JSON object of the OrderPlaced\'s fields, not {said}'


def test_an_unknown_type_is_said_before_data(ingest: OrderIngest) -> None:
    with pytest.raises(ValidationError, match="unknown event type 'Nope'"):
        ingest.prepare({"type": "Nope"})
