"""The pydantic models and schemas/*.avsc cannot drift: field by field, type by type."""

import json
from pathlib import Path
from typing import Any, get_args, get_origin

import pytest
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from agents.events import MODELS, EventCatalog, OrderItem

SCHEMAS = Path(__file__).resolve().parents[3] / "schemas"
AVRO_TO_PY = {"string": str, "int": int, "long": int, "boolean": bool, "double": float}


def _avro_type(avro: Any) -> tuple[Any, bool]:
    """(python type, optional) for an Avro field type."""
    if isinstance(avro, list):
        non_null = [t for t in avro if t != "null"]
        assert len(non_null) == 1, avro
        return _avro_type(non_null[0])[0], "null" in avro
    if isinstance(avro, dict):
        if avro.get("logicalType") == "timestamp-millis":
            return "datetime", False
        if avro["type"] == "array":
            return ("list", avro["items"]["name"]), False
        return _avro_type(avro["type"])
    return AVRO_TO_PY[avro], False


def _py_type(field: FieldInfo) -> tuple[Any, bool]:
    annotation = field.annotation
    optional = type(None) in get_args(annotation)
    if optional:
        annotation = next(a for a in get_args(annotation) if a is not type(None))
    if get_origin(annotation) is list:
        return ("list", get_args(annotation)[0].__name__), optional
    if getattr(annotation, "__name__", "") == "datetime":
        return "datetime", optional
    return annotation, optional


def _compare(model: type[BaseModel], schema: dict[str, Any]) -> None:
    avro_fields = {f["name"]: f for f in schema["fields"]}
    assert list(avro_fields) == list(model.model_fields), f"{model.__name__}: field names or order differ"
    for name, field in model.model_fields.items():
        avro = avro_fields[name]
        assert avro.get("doc"), f"{schema['name']}.{name} has no doc"
        assert _py_type(field) == _avro_type(avro["type"]), f"{model.__name__}.{name}"
        if "default" in avro:
            assert field.default == avro["default"], f"{model.__name__}.{name} default"
        else:
            assert field.is_required(), f"{model.__name__}.{name} must be required like its Avro field"


@pytest.mark.parametrize("name", sorted(MODELS))
def test_model_agrees_with_avsc(name: str) -> None:
    schema = json.loads((SCHEMAS / f"{name}.avsc").read_text())
    assert schema["namespace"] == "com.acme.orders"
    assert schema.get("doc")
    _compare(MODELS[name], schema)


def test_order_item_agrees_with_its_nested_record() -> None:
    schema = json.loads((SCHEMAS / "OrderPlaced.avsc").read_text())
    items = next(f for f in schema["fields"] if f["name"] == "items")
    _compare(OrderItem, items["type"]["items"])


def test_v2_only_adds_an_optional_field_with_a_default() -> None:
    v1 = json.loads((SCHEMAS / "history" / "OrderPlaced.v1.avsc").read_text())
    v2 = json.loads((SCHEMAS / "OrderPlaced.avsc").read_text())
    added = [f for f in v2["fields"] if f["name"] not in {g["name"] for g in v1["fields"]}]
    assert [f["name"] for f in added] == ["channel"]
    assert added[0]["default"] is None
    assert v2["fields"][: len(v1["fields"])] == v1["fields"]


def test_catalog_loads_every_schema() -> None:
    catalog = EventCatalog.load(SCHEMAS)
    assert set(catalog.schemas) == set(MODELS)
    assert all(s.full_name.startswith("com.acme.orders.") for s in catalog.schemas.values())
