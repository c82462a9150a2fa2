"""The state is the `_schemas` log applied in order; conflicting records lose to the first one, everywhere."""

from __future__ import annotations

import json

from streams.registry.compat import Level
from streams.registry.schema import Reference
from streams.registry.service import canonicalize
from streams.registry.state import RegistryState, config_key, schema_key


def rec(name: str) -> str:
    return json.dumps({"type": "record", "name": name, "namespace": "t", "fields": [{"name": "a", "type": "int"}]})


def value(subject: str, version: int, schema_id: int, text: str, deleted: bool = False) -> bytes:
    return json.dumps({"subject": subject, "version": version, "id": schema_id, "schema": text,
                       "deleted": deleted}).encode()


def fresh() -> RegistryState:
    return RegistryState(canonicalize=canonicalize)


def test_register_versions_and_ids() -> None:
    state = fresh()
    assert state.apply(schema_key("s", 1), value("s", 1, 1, rec("A")))
    assert state.apply(schema_key("s", 2), value("s", 2, 2, rec("B")))
    assert state.apply(schema_key("other", 1), value("other", 1, 1, rec("A")))  # same schema, same id
    assert [v.version for v in state.live_versions("s")] == [1, 2]
    assert [(v.subject, v.version) for v in state.versions_of_id(1)] == [("other", 1), ("s", 1)]
    assert state.next_id() == 3
    assert state.next_version("s") == 3


def test_first_record_for_an_id_wins() -> None:
    state = fresh()
    assert state.apply(schema_key("s", 1), value("s", 1, 5, rec("A")))
    assert not state.apply(schema_key("t", 1), value("t", 1, 5, rec("B")))  # id 5 is A's
    assert state.schemas[5].text == rec("A")
    assert "t" not in state.subject_names()


def test_first_record_for_a_subject_version_wins() -> None:
    state = fresh()
    assert state.apply(schema_key("s", 1), value("s", 1, 1, rec("A")))
    assert not state.apply(schema_key("s", 1), value("s", 1, 2, rec("B")))
    assert state.subjects["s"][1].id == 1


def test_a_schema_never_gets_a_second_id() -> None:
    state = fresh()
    assert state.apply(schema_key("s", 1), value("s", 1, 1, rec("A")))
    assert not state.apply(schema_key("u", 1), value("u", 1, 2, rec("A")))


def test_soft_then_permanent_delete() -> None:
    state = fresh()
    state.apply(schema_key("s", 1), value("s", 1, 1, rec("A")))
    state.apply(schema_key("s", 1), value("s", 1, 1, rec("A"), deleted=True))
    assert state.live_versions("s") == []
    assert state.subject_names() == []
    assert state.subject_names(deleted=True) == ["s"]
    state.apply(schema_key("s", 1), None)
    assert state.subject_names(deleted=True) == []
    assert state.schemas[1].text == rec("A")  # an id, once given, keeps its schema


def test_config_records() -> None:
    state = fresh()
    assert state.level("s") is Level.BACKWARD
    state.apply(config_key(None), json.dumps({"compatibilityLevel": "FULL"}).encode())
    state.apply(config_key("s"), json.dumps({"compatibilityLevel": "NONE"}).encode())
    assert (state.level(None), state.level("s"), state.level("u")) == (Level.FULL, Level.NONE, Level.FULL)
    state.apply(config_key("s"), None)
    assert state.level("s") is Level.FULL


def test_garbage_and_foreign_records_are_ignored() -> None:
    state = fresh()
    assert not state.apply(b"not json", b"{}")
    assert not state.apply(json.dumps({"keytype": "NOOP"}).encode(), None)
    assert not state.apply(schema_key("s", 1), value("s", 1, 1, "not avro"))
    assert state.schemas == {}


def test_references_are_resolved_from_the_state() -> None:
    state = fresh()
    address = json.dumps({"type": "record", "name": "Address", "namespace": "t",
                          "fields": [{"name": "street", "type": "string"}]})
    person = json.dumps({"type": "record", "name": "Person", "namespace": "t",
                         "fields": [{"name": "home", "type": "t.Address"}]})
    assert state.apply(schema_key("addr", 1), value("addr", 1, 1, address))
    person_value = json.loads(value("p", 1, 2, person))
    person_value["references"] = [{"name": "t.Address", "subject": "addr", "version": 1}]
    assert state.apply(schema_key("p", 1), json.dumps(person_value).encode())
    assert state.schemas[2].references == (Reference("t.Address", "addr", 1),)
