"""The project's own schemas: older versions stay readable, and the commands are documented like the events.

``schemas/history/<Name>.v<N>.avsc`` keeps a version a registry may already
hold; the current one (in ``schemas/`` or ``schemas/commands/``) must read its
records and be read by its readers, or a registry at FULL compatibility refuses
it and consumers still on the old version break.  The events' fields are
compared to their pydantic models elsewhere (tests/unit/events); the commands
have no models, so their shape is checked here.
"""

import json
from pathlib import Path
from typing import Any

import avro.compatibility
import avro.schema
import pytest

from streams.avro import load_schemas

SCHEMAS = Path(__file__).resolve().parents[3] / "schemas"
HISTORY = sorted((SCHEMAS / "history").glob("*.avsc"))
COMMANDS = sorted((SCHEMAS / "commands").glob("*.avsc"))
LINES = ("sku", "string"), ("quantity", "int")
"""The shape of an order line in a command: ReserveInventory's ReservationLine."""


def current(old: Path) -> Path:
    name = old.name.split(".", 1)[0]
    (found,) = [p for p in (SCHEMAS / f"{name}.avsc", SCHEMAS / "commands" / f"{name}.avsc") if p.exists()]
    return found


def test_history_keeps_the_versions_registries_may_hold() -> None:
    assert {p.name for p in HISTORY} >= {"OrderPlaced.v1.avsc", "ReserveInventory.v1.avsc"}


@pytest.mark.parametrize("old", HISTORY, ids=lambda p: p.name)
def test_the_current_schema_is_fully_compatible_with_each_older_version(old: Path) -> None:
    """Apache Avro's own checker, both ways: new readers read old records, old readers read new records."""
    before = avro.schema.parse(old.read_text())
    now = avro.schema.parse(current(old).read_text())
    checker = avro.compatibility.ReaderWriterCompatibilityChecker()  # type: ignore[no-untyped-call]
    compatible = avro.compatibility.SchemaCompatibilityType.compatible
    assert checker.get_compatibility(reader=now, writer=before).compatibility is compatible
    assert checker.get_compatibility(reader=before, writer=now).compatibility is compatible
    assert before.fullname == now.fullname  # type: ignore[attr-defined]


def test_the_commands_are_the_sagas() -> None:
    assert {p.stem for p in COMMANDS} == {"AuthorizePayment", "RefundPayment", "ReserveInventory",
                                          "ReleaseInventory", "CreateShipment"}
    assert {s.full_name for s in load_schemas(SCHEMAS / "commands").values()} == {
        f"com.acme.orders.{p.stem}" for p in COMMANDS}


def _documented(record: dict[str, Any], where: str) -> None:
    assert record.get("doc"), f"{where} has no doc"
    for field in record["fields"]:
        assert field.get("doc"), f"{where}.{field['name']} has no doc"


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: p.stem)
def test_every_command_and_field_has_a_doc_and_lines_have_one_shape(path: Path) -> None:
    schema = json.loads(path.read_text())
    assert (schema["type"], schema["name"], schema["namespace"]) == ("record", path.stem, "com.acme.orders")
    _documented(schema, path.stem)
    fields = {f["name"]: f for f in schema["fields"]}
    assert fields["order_id"]["type"] == "string"
    assert "sent by the order saga" in schema["doc"].lower()
    if "lines" in fields:
        record = fields["lines"]["type"]["items"]
        _documented(record, f"{path.stem}.lines")
        assert tuple((f["name"], f["type"]) for f in record["fields"]) == LINES
    for name, field in fields.items():
        if name.endswith("_minor"):
            assert field["type"] == "long", name
            assert fields["currency"]["type"] == "string", f"{path.stem}.{name}: an amount needs its currency"


@pytest.mark.parametrize("name", ["ReserveInventory", "ReleaseInventory"])
def test_inventory_commands_name_their_warehouse_main_unless_told(name: str) -> None:
    """The warehouse is the inventory commands' record key; a producer that names none means "main"."""
    fields = {f["name"]: f for f in json.loads((SCHEMAS / "commands" / f"{name}.avsc").read_text())["fields"]}
    assert (fields["warehouse"]["type"], fields["warehouse"]["default"]) == ("string", "main")
