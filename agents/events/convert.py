"""Between typed events and Avro records, with field-level validation errors.

``to_avro`` gives the dict fastavro writes (aware UTC datetimes for
timestamp-millis fields, nested records as dicts); ``from_avro`` validates a
decoded record (or any JSON-like dict) into its model.  Invalid content is a
``streams.errors.ValidationError`` whose ``details`` list ``{field, message}``
per problem, with nested fields dotted (``items.0.quantity``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import pydantic

from agents.events.models import OrderEvent
from agents.events.types import event_type
from streams.errors import ValidationError

__all__ = ["field_errors", "from_avro", "parse", "to_avro"]

E = TypeVar("E", bound=OrderEvent)


def to_avro(event: OrderEvent) -> dict[str, Any]:
    """The Avro record of ``event`` under its current schema."""
    return event.model_dump(mode="python")


def from_avro(name: str, record: Mapping[str, Any]) -> OrderEvent:
    """The event of type ``name`` (short or full Avro name) from a record or JSON-like dict."""
    return parse(event_type(name).model, record)


def parse(model: type[E], data: Any) -> E:
    """``data`` as ``model``, or ``ValidationError`` naming each bad field."""
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        details = field_errors(exc)  # named in the message too, so a one-line error says what to fix
        raise ValidationError(f"{model.__name__} is not valid: "
                              + "; ".join(f"{d['field']}: {d['message']}" for d in details), details=details) from None


def field_errors(exc: pydantic.ValidationError) -> list[dict[str, str]]:
    """pydantic's errors as ``[{"field": "items.0.quantity", "message": ...}]``; ``(event)`` for a rule over several
    fields.  A validator's own message comes without pydantic's ``Value error, `` in front."""
    return [{"field": ".".join(str(part) for part in err["loc"]) or "(event)",
             "message": err["msg"].removeprefix("Value error, ")}
            for err in exc.errors(include_url=False)]
