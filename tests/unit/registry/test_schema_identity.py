"""Identity of schemas: Avro's parsing canonical form plus what it drops that changes how data is read."""

from __future__ import annotations

import json

import pytest

from streams.registry.errors import InvalidSchemaError
from streams.registry.schema import ParsedSchema, Reference, parse_avro


def rec(*fields: dict[str, object], name: str = "R", namespace: str = "t") -> str:
    return json.dumps({"type": "record", "name": name, "namespace": namespace, "fields": list(fields)})


def test_whitespace_key_order_and_name_spelling_do_not_matter() -> None:
    compact = '{"type":"record","name":"R","namespace":"t","fields":[{"name":"x","type":"int"}]}'
    spaced = json.dumps({"fields": [{"type": {"type": "int"}, "name": "x"}], "name": "t.R", "type": "record"},
                        indent=4)
    assert parse_avro(compact).identity == parse_avro(spaced).identity
    assert parse_avro(spaced).text == spaced  # the text is kept as given


def test_canonical_form_is_avros() -> None:
    import avro.schema

    text = rec({"name": "x", "type": "int", "doc": "the x"})
    assert parse_avro(text).canonical == avro.schema.parse(text).canonical_form


def test_doc_does_not_matter() -> None:
    assert parse_avro(rec({"name": "x", "type": "int", "doc": "one"})).identity == \
        parse_avro(rec({"name": "x", "type": "int"})).identity


@pytest.mark.parametrize(("a", "b"), [
    ({"name": "x", "type": "int"}, {"name": "x", "type": "int", "default": 0}),
    ({"name": "x", "type": "int", "default": 0}, {"name": "x", "type": "int", "default": 1}),
    ({"name": "x", "type": "long"}, {"name": "x", "type": {"type": "long", "logicalType": "timestamp-millis"}}),
    ({"name": "x", "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2}},
     {"name": "x", "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 3}}),
    ({"name": "x", "type": "int"}, {"name": "x", "type": "int", "aliases": ["old_x"]}),
])
def test_what_changes_reading_makes_another_schema(a: dict[str, object], b: dict[str, object]) -> None:
    """Parsing canonical form alone drops these, and would hand out the old id for the new meaning."""
    assert parse_avro(rec(a)).identity != parse_avro(rec(b)).identity


def test_other_field_type_is_another_schema() -> None:
    assert parse_avro(rec({"name": "x", "type": "int"})).identity != \
        parse_avro(rec({"name": "x", "type": "long"})).identity


def test_references_resolve_and_are_part_of_identity() -> None:
    address = parse_avro(rec({"name": "street", "type": "string"}, name="Address"))
    refs = {Reference("t.Address", "addr", 1): address}

    def resolve(ref: Reference) -> ParsedSchema:
        return refs[ref]

    person_text = rec({"name": "home", "type": "t.Address"}, name="Person")
    ref = Reference("t.Address", "addr", 1)
    person = parse_avro(person_text, (ref,), resolve)
    assert person.references == (ref,)
    assert person.schema.fields[0].type.fullname == "t.Address"
    with pytest.raises(InvalidSchemaError):
        parse_avro(person_text)  # the name is unknown without its reference


@pytest.mark.parametrize("text", [
    "not json", "[1, 2", '{"type": "record"}', '{"type": "nope"}', '{"type": "record", "name": "R", "fields": 3}',
    '{"type": "enum", "name": "E", "symbols": [1]}', '"not-a-type"', "42", "null",
])
def test_not_avro_is_invalid_schema(text: str) -> None:
    with pytest.raises(InvalidSchemaError) as info:
        parse_avro(text)
    assert info.value.error_code == 42201
