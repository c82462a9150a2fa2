"""The pydantic models and schemas/*.avsc cannot drift: field by field, type by type.

For every event type: the same fields in the same order, each with a doc; the
Avro type the model's annotation and bounds call for (an ``int`` field whose
bounds fit 32 bits, money as a strict ``long``, times as timestamp-millis,
lists as arrays of the nested record, optional fields as ``["null", T]``); the
same defaults, and required exactly where Avro has no default.
"""

import json
from datetime import datetime
from pathlib import Path
from typing import Any, Union, get_args, get_origin

import annotated_types
import avro.compatibility
import avro.schema
import pytest
from pydantic import BaseModel, Strict
from pydantic.fields import FieldInfo

from agents.events import EVENT_TYPES, MODELS, NAMESPACE, EventCatalog, EventType, OrderItem

SCHEMAS = Path(__file__).resolve().parents[3] / "schemas"
INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)
TYPES = sorted({t.name for t in EVENT_TYPES.values()})


def avsc(kind: EventType) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(kind.avsc_path(SCHEMAS).read_text())
    return schema


def _bounds(field: FieldInfo) -> tuple[float, float]:
    low: float = float("-inf")
    high: float = float("inf")
    for meta in field.metadata:
        if isinstance(meta, annotated_types.Ge):
            low = float(meta.ge)  # type: ignore[arg-type]
        if isinstance(meta, annotated_types.Le):
            high = float(meta.le)  # type: ignore[arg-type]
    return low, high


def expected_avro(field: FieldInfo, annotation: Any, where: str) -> Any:
    """The Avro type a model field must have (nested records compared on the way)."""
    if get_origin(annotation) in (Union, type(int | None)) and type(None) in get_args(annotation):
        (inner,) = [a for a in get_args(annotation) if a is not type(None)]
        return ["null", expected_avro(field, inner, where)]
    if annotation is str:
        return "string"
    if annotation is bool:
        return "boolean"
    if annotation is int:
        assert any(isinstance(m, Strict) for m in field.metadata), f"{where}: int fields must be strict (no floats)"
        low, high = _bounds(field)
        if INT32[0] <= low and high <= INT32[1]:
            return "int"
        assert INT64[0] <= low, f"{where}: lower bound {low} does not fit an Avro long"
        assert high <= INT64[1], f"{where}: upper bound {high} does not fit an Avro long"
        return "long"
    if annotation is datetime:
        return {"type": "long", "logicalType": "timestamp-millis"}
    if get_origin(annotation) is list:
        (item,) = get_args(annotation)
        assert issubclass(item, BaseModel), where
        return {"type": "array", "items": item.__name__}
    raise AssertionError(f"{where}: no Avro type for {annotation!r}")


def actual_avro(avro_type: Any, where: str, nested: dict[str, type[BaseModel]]) -> Any:
    """The Avro type as written, with a nested record compared to its model and replaced by its name."""
    if isinstance(avro_type, dict) and avro_type.get("type") == "array":
        items = avro_type["items"]
        if isinstance(items, dict) and items.get("type") == "record":
            compare(nested[items["name"]], items, nested)
            return {"type": "array", "items": items["name"]}
    return avro_type


def compare(model: type[BaseModel], schema: dict[str, Any], nested: dict[str, type[BaseModel]]) -> None:
    name = schema["name"]
    assert schema.get("doc"), f"{name} has no doc"
    avro_fields = {f["name"]: f for f in schema["fields"]}
    assert list(avro_fields) == list(model.model_fields), f"{name}: field names or their order differ"
    for field_name, field in model.model_fields.items():
        where = f"{name}.{field_name}"
        avro_field = avro_fields[field_name]
        assert avro_field.get("doc"), f"{where} has no doc"
        assert actual_avro(avro_field["type"], where, nested) == expected_avro(field, field.annotation, where), where
        if "default" in avro_field:
            assert not field.is_required(), f"{where}: Avro has a default, the model requires the field"
            assert field.default == avro_field["default"], f"{where}: defaults differ"
        else:
            assert field.is_required(), f"{where}: required in Avro, optional in the model"


@pytest.mark.parametrize("name", TYPES)
def test_model_agrees_with_its_avsc(name: str) -> None:
    kind = EVENT_TYPES[name]
    schema = avsc(kind)
    assert (schema["type"], schema["name"], schema["namespace"]) == ("record", name, NAMESPACE)
    assert kind.avsc == f"{name}.avsc"
    assert kind.model is MODELS[name]
    assert kind.model.__name__ == name
    compare(kind.model, schema, {"OrderItem": OrderItem})


@pytest.mark.parametrize("name", TYPES)
def test_money_is_exact_and_times_are_millis(name: str) -> None:
    fields = {f["name"]: f["type"] for f in avsc(EVENT_TYPES[name])["fields"]}
    text = json.dumps(avsc(EVENT_TYPES[name]))
    for inexact in ('"float"', '"double"', '"decimal"'):
        assert inexact not in text
    for field, avro_type in fields.items():
        if field.endswith("_minor"):
            assert avro_type == "long", field
            assert "currency" in fields, f"{name}.{field}: an amount needs its currency"
        if field.endswith("_at"):
            assert avro_type == {"type": "long", "logicalType": "timestamp-millis"}, field
    assert fields["order_id"] == "string"


def test_order_item_is_a_nested_record_in_the_namespace() -> None:
    items = next(f for f in avsc(EVENT_TYPES["OrderPlaced"])["fields"] if f["name"] == "items")
    record = items["type"]["items"]
    assert (record["type"], record["name"]) == ("record", "OrderItem")
    assert "namespace" not in record  # inherits com.acme.orders
    assert [f["type"] for f in record["fields"]] == ["string", "int", "long"]


def test_every_schema_file_is_an_event_type_and_every_type_has_a_file() -> None:
    assert sorted(p.stem for p in SCHEMAS.glob("*.avsc")) == TYPES
    assert len(TYPES) == 13


def test_event_types_answer_short_and_full_names() -> None:
    assert len(EVENT_TYPES) == 26
    for name in TYPES:
        assert EVENT_TYPES[name] is EVENT_TYPES[f"{NAMESPACE}.{name}"]
        assert EVENT_TYPES[name].full_name == f"com.acme.orders.{name}"


def test_v2_only_adds_an_optional_field_with_a_default() -> None:
    v1 = json.loads((SCHEMAS / "history" / "OrderPlaced.v1.avsc").read_text())
    v2 = avsc(EVENT_TYPES["OrderPlaced"])
    assert v2["fields"][: len(v1["fields"])] == v1["fields"]
    (added,) = v2["fields"][len(v1["fields"]):]
    assert added["name"] == "channel"
    assert added["type"] == ["null", "string"]
    assert added["default"] is None
    assert {k: v for k, v in v1.items() if k != "fields"} == {k: v for k, v in v2.items() if k != "fields"}


def test_v1_and_v2_are_fully_compatible() -> None:
    """Apache Avro's own checker: v2 readers read v1 records and v1 readers read v2 records."""
    v1 = avro.schema.parse((SCHEMAS / "history" / "OrderPlaced.v1.avsc").read_text())
    v2 = avro.schema.parse(EVENT_TYPES["OrderPlaced"].avsc_path(SCHEMAS).read_text())
    checker = avro.compatibility.ReaderWriterCompatibilityChecker()  # type: ignore[no-untyped-call]
    compatible = avro.compatibility.SchemaCompatibilityType.compatible
    assert checker.get_compatibility(reader=v2, writer=v1).compatibility is compatible
    assert checker.get_compatibility(reader=v1, writer=v2).compatibility is compatible


def test_catalog_loads_every_schema() -> None:
    catalog = EventCatalog.load(SCHEMAS)
    assert set(catalog.schemas) == set(TYPES)
    assert set(catalog.readers) == {f"{NAMESPACE}.{name}" for name in TYPES}
