"""The OpenAPI document of the worker's HTTP API (GET /openapi.json).

The routes, their answers and the views' schemas are written in
``openapi.json``; what POST /events accepts is derived here from the pydantic
models that validate it (``agents.events``), so the two cannot drift apart.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from pydantic.json_schema import models_json_schema

from agents.events.catalog import MODELS
from agents.events.types import EVENT_TYPES

__all__ = ["OPENAPI", "openapi_document"]

OPENAPI = resources.files("agents").joinpath("openapi.json")
"""The hand-written part: every route the worker serves."""

_REF = "#/components/schemas/{model}"


def openapi_document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(OPENAPI.read_text(encoding="utf-8"))
    _, models = models_json_schema([(model, "validation") for model in MODELS.values()], ref_template=_REF)
    schemas = document["components"]["schemas"]
    schemas.update(models["$defs"])
    schemas["EventRequest"] = {
        "description": "One event: its type, its fields in data (the schema of that type), and optional ids",
        "oneOf": [_request(name) for name in MODELS],
    }
    return document


def _request(name: str) -> dict[str, Any]:
    return {
        "type": "object", "title": f"{name} request", "required": ["type", "data"], "additionalProperties": False,
        "properties": {
            "type": {"const": name, "description": f"The event type (its full Avro name "
                                                   f"{EVENT_TYPES[name].full_name} works too)"},
            "data": {"$ref": _REF.format(model=name)},
            "event_id": {"type": "string", "format": "uuid", "description": "Idempotency key; made up when absent"},
            "correlation_id": {"type": "string"},
            "causation_id": {"type": "string"},
        },
    }
