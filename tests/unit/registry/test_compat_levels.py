"""Every compatibility level, one case that passes and one that fails (Apache Avro decides)."""

import json

import pytest

from streams.registry.compat import Level, incompatibilities, parse_level
from streams.registry.errors import InvalidCompatibilityLevelError, InvalidSchemaError
from streams.registry.schema import parse_avro


def rec(*fields: dict[str, object]) -> str:
    return json.dumps({"type": "record", "name": "R", "namespace": "t", "fields": list(fields)})


X = {"name": "x", "type": "int"}
Y_OPT = {"name": "y", "type": ["null", "string"], "default": None}
Y_REQ = {"name": "y", "type": "string"}
X_STR = {"name": "x", "type": "string"}
V1, V2_OPT, V2_REQ, V_ONLY_Y_OPT = rec(X), rec(X, Y_OPT), rec(X, Y_REQ), rec(Y_OPT)


def check(new: str, *old: str, level: Level) -> list[str]:
    return incompatibilities(parse_avro(new).schema,
                             [(i + 1, parse_avro(text).schema) for i, text in enumerate(old)], level)


@pytest.mark.parametrize(("level", "new", "old", "ok"), [
    (Level.BACKWARD, V2_OPT, [V1], True),          # add optional field with default
    (Level.BACKWARD, V2_REQ, [V1], False),         # add field without default
    (Level.BACKWARD, rec(X_STR), [V1], False),     # change a field's type
    (Level.FORWARD, V2_OPT, [V1], True),           # old readers ignore the new optional field
    (Level.FORWARD, V2_REQ, [V1], True),           # add field: old schema can read new data
    (Level.FORWARD, rec(Y_OPT), [rec(X)], False),  # remove field without default: old reader needs x
    (Level.FULL, V2_OPT, [V1], True),
    (Level.FULL, V2_REQ, [V1], False),
    (Level.NONE, rec(X_STR), [V1], True),
])
def test_latest_only_levels(level: Level, new: str, old: list[str], ok: bool) -> None:
    problems = check(new, *old, level=level)
    assert (not problems) is ok, problems


@pytest.mark.parametrize(("level", "history", "new", "ok"), [
    # int -> long is a legal promotion; string -> long is not, and only version 1 had a string.
    (Level.BACKWARD_TRANSITIVE, [rec({"name": "x", "type": "int"}), rec({"name": "x", "type": "long"})],
     rec({"name": "x", "type": "long"}, Y_OPT), True),
    (Level.BACKWARD_TRANSITIVE, [rec({"name": "x", "type": "string"}), rec({"name": "x", "type": "long"})],
     rec({"name": "x", "type": "long"}, Y_OPT), False),
    (Level.FORWARD_TRANSITIVE, [V1, V2_OPT], V2_REQ, True),
    (Level.FORWARD_TRANSITIVE, [V2_REQ, V1], V_ONLY_Y_OPT, False),
    (Level.FULL_TRANSITIVE, [V1, V2_OPT], V2_OPT, True),
    (Level.FULL_TRANSITIVE, [V2_REQ, V2_OPT], V1, False),
])
def test_transitive_levels(level: Level, history: list[str], new: str, ok: bool) -> None:
    problems = check(new, *history, level=level)
    assert (not problems) is ok, problems


def test_transitive_sees_what_latest_only_misses() -> None:
    history = [rec({"name": "x", "type": "string"}), rec({"name": "x", "type": "long"})]
    new = rec({"name": "x", "type": "long"}, Y_OPT)
    assert not check(new, *history, level=Level.BACKWARD)  # long reads long
    assert check(new, *history, level=Level.BACKWARD_TRANSITIVE)  # long cannot read version 1's string


def test_messages_name_each_incompatibility() -> None:
    problems = check(rec(X_STR, Y_REQ), V1, level=Level.BACKWARD)
    text = " ".join(problems)
    assert "version 1" in text
    assert "type_mismatch" in text or "reader_field_missing_default_value" in text


def test_levels_parse_case_insensitively_and_refuse_nonsense() -> None:
    assert parse_level("full_transitive") is Level.FULL_TRANSITIVE
    with pytest.raises(InvalidCompatibilityLevelError):
        parse_level("SIDEWAYS")


def test_identity_is_the_canonical_form() -> None:
    a = parse_avro('{"type":"record","name":"R","namespace":"t","fields":[{"name":"x","type":"int"}]}')
    b = parse_avro('{ "fields": [ {"type": {"type": "int"}, "name": "x", "doc": "d"} ],\n "name": "t.R", '
                   '"type": "record" }')
    assert a.identity == b.identity
    assert a.text != b.text


@pytest.mark.parametrize("text", ["not json", '{"type": "record"}', '{"type": "nope"}', "[1, 2"])
def test_not_avro_is_invalid_schema(text: str) -> None:
    with pytest.raises(InvalidSchemaError):
        parse_avro(text)
