"""Schema evolution through the real client: every level has a case that passes and one that fails (409).

Avro's own rules, as Confluent documents them: BACKWARD lets a new schema add
optional fields and delete fields (the new reader ignores them); FORWARD lets
it add fields and delete optional ones (old readers use the default); FULL
needs both; *_TRANSITIVE checks against every earlier version, not only the latest.
"""

from __future__ import annotations

import json

import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError

pytestmark = pytest.mark.integration


def rec(*fields: dict[str, object]) -> str:
    return json.dumps({"type": "record", "name": "Evolving", "namespace": "t.evo", "fields": list(fields)})


X_INT = {"name": "x", "type": "int"}
X_LONG = {"name": "x", "type": "long"}
X_STR = {"name": "x", "type": "string"}
Y_OPT = {"name": "y", "type": ["null", "string"], "default": None}
Y_REQ = {"name": "y", "type": "string"}
Z_OPT = {"name": "z", "type": ["null", "long"], "default": None}

CASES = [
    # level, history (registered under NONE), new schema, accepted?
    ("NONE", [rec(X_INT)], rec(X_STR), True),
    ("NONE", [rec(X_INT)], "not avro at all", False),  # NONE checks nothing, but the schema must still be Avro
    ("BACKWARD", [rec(X_INT)], rec(X_INT, Y_OPT), True),  # add an optional field with a default
    ("BACKWARD", [rec(X_INT)], rec(X_STR), False),  # change a field's type
    ("BACKWARD", [rec(X_INT, Y_REQ)], rec(X_INT), True),  # delete a field: the new reader ignores it
    ("BACKWARD", [rec(X_INT)], rec(X_INT, Y_REQ), False),  # add a field without a default
    ("BACKWARD_TRANSITIVE", [rec(X_INT), rec(X_LONG)], rec(X_LONG, Y_OPT), True),  # int promotes to long
    ("BACKWARD_TRANSITIVE", [rec(X_STR), rec(X_LONG)], rec(X_LONG, Y_OPT), False),  # v1's string does not
    ("FORWARD", [rec(X_INT)], rec(X_INT, Y_REQ), True),  # add a field: old readers ignore it
    ("FORWARD", [rec(X_INT, Y_OPT)], rec(Y_OPT), False),  # remove a field without a default
    ("FORWARD_TRANSITIVE", [rec(X_INT), rec(X_INT, Y_OPT)], rec(X_INT, Y_OPT, Z_OPT), True),
    ("FORWARD_TRANSITIVE", [rec(X_INT, Y_REQ), rec(X_INT)], rec(X_INT, Y_OPT), False),  # v1 needs y
    ("FULL", [rec(X_INT)], rec(X_INT, Y_OPT), True),
    ("FULL", [rec(X_INT, Y_OPT)], rec(Y_OPT), False),  # remove a field without a default
    ("FULL_TRANSITIVE", [rec(X_INT), rec(X_INT, Y_OPT)], rec(X_INT, Y_OPT, Z_OPT), True),
    ("FULL_TRANSITIVE", [rec(X_INT, Y_REQ), rec(X_INT, Y_OPT)], rec(X_INT), False),  # v1 has y without default
]


@pytest.mark.parametrize(("level", "history", "new", "accepted"), CASES,
                         ids=[f"{c[0]}-{'pass' if c[3] else 'fail'}-{i}" for i, c in enumerate(CASES)])
def test_level(client: SchemaRegistryClient, subject: str, level: str, history: list[str], new: str,
               accepted: bool) -> None:
    client.set_compatibility(subject, "NONE")
    for text in history:
        client.register_schema(subject, Schema(text, "AVRO"))
    client.set_compatibility(subject, level)
    if new == "not avro at all":
        with pytest.raises(SchemaRegistryError) as invalid:
            client.register_schema(subject, Schema(new, "AVRO"))
        assert (invalid.value.http_status_code, invalid.value.error_code) == (422, 42201)
        return
    assert client.test_compatibility(subject, Schema(new, "AVRO")) is accepted
    if accepted:
        assert client.register_schema(subject, Schema(new, "AVRO")) > 0
        assert len(client.get_versions(subject)) == len(history) + 1
    else:
        with pytest.raises(SchemaRegistryError) as info:
            client.register_schema(subject, Schema(new, "AVRO"))
        assert info.value.http_status_code == 409
        assert client.get_versions(subject) == list(range(1, len(history) + 1))


def test_refusal_names_each_incompatibility(client: SchemaRegistryClient, subject: str) -> None:
    client.register_schema(subject, Schema(rec(X_INT), "AVRO"))
    client.set_compatibility(subject, "BACKWARD")
    with pytest.raises(SchemaRegistryError) as info:
        client.register_schema(subject, Schema(rec(X_STR, Y_REQ), "AVRO"))
    assert info.value.http_status_code == 409
    message = info.value.error_message
    assert "/fields/0/type" in message or "type_mismatch" in message.lower()  # x changed type
    assert "y" in message  # y has no default
