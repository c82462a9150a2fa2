"""confluent-kafka's own SchemaRegistryClient against the registry: every route it uses."""

from __future__ import annotations

import json
import os

import pytest
from confluent_kafka.schema_registry import Schema, SchemaReference, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError

pytestmark = pytest.mark.integration


def record(name: str, *fields: dict[str, object], namespace: str = "t") -> str:
    return json.dumps({"type": "record", "name": name, "namespace": namespace, "fields": list(fields)})


A = record("A", {"name": "x", "type": "int"})
A_SPACED = json.dumps({"fields": [{"type": "int", "name": "x"}], "namespace": "t", "name": "A", "type": "record"},
                      indent=4)
A2 = record("A", {"name": "x", "type": "int"}, {"name": "y", "type": ["null", "string"], "default": None})


def test_register_is_idempotent_and_ignores_formatting(client: SchemaRegistryClient, subject: str) -> None:
    first = client.register_schema(subject, Schema(A, "AVRO"))
    with SchemaRegistryClient({"url": client._rest_client.base_urls[0]}) as other:
        again = other.register_schema(subject, Schema(A_SPACED, "AVRO"))
    assert again == first
    assert client.get_versions(subject) == [1]
    registered = client.get_latest_version(subject)
    assert (registered.schema_id, registered.version) == (first, 1)
    assert json.loads(registered.schema.schema_str) == json.loads(A)  # text kept as first registered


def test_versions_lookup_ids_and_subjects(client: SchemaRegistryClient, subject: str) -> None:
    id1 = client.register_schema(subject, Schema(A, "AVRO"))
    id2 = client.register_schema(subject, Schema(A2, "AVRO"))
    assert id2 != id1
    assert client.get_versions(subject) == [1, 2]
    assert client.get_version(subject, 1).schema_id == id1
    assert client.lookup_schema(subject, Schema(A2, "AVRO")).version == 2
    assert json.loads(client.get_schema(id2).schema_str) == json.loads(A2)
    assert subject in client.get_subjects()
    assert (subject, 1) in {(sv.subject, sv.version) for sv in client.get_schema_versions(id1)}


def test_soft_and_permanent_deletes(client: SchemaRegistryClient, subject: str) -> None:
    client.register_schema(subject, Schema(A, "AVRO"))
    client.register_schema(subject, Schema(A2, "AVRO"))
    assert client.delete_version(subject, 2) == 2
    assert client.get_versions(subject) == [1]
    with pytest.raises(SchemaRegistryError) as info:
        client.delete_version(subject, 1, permanent=True)  # not soft-deleted first
    assert info.value.error_code == 40407
    assert client.delete_subject(subject) == [1]
    with pytest.raises(SchemaRegistryError) as info:
        client.get_versions(subject)
    assert info.value.error_code == 40401
    assert sorted(client.delete_subject(subject, permanent=True)) == [1, 2]
    assert subject not in client.get_subjects()


def test_not_found_codes(client: SchemaRegistryClient, subject: str) -> None:
    with pytest.raises(SchemaRegistryError) as info:
        client.get_latest_version(subject)
    assert (info.value.http_status_code, info.value.error_code) == (404, 40401)
    client.register_schema(subject, Schema(A, "AVRO"))
    with pytest.raises(SchemaRegistryError) as info:
        client.get_version(subject, 9)
    assert info.value.error_code == 40402
    with pytest.raises(SchemaRegistryError) as info:
        client.lookup_schema(subject, Schema(A2, "AVRO"))
    assert info.value.error_code == 40403
    with pytest.raises(SchemaRegistryError) as info:
        client.get_schema(987654)
    assert info.value.error_code == 40403


def test_config_global_and_per_subject(client: SchemaRegistryClient, subject: str) -> None:
    if not os.environ.get("STREAMS_TEST_REGISTRY_URL"):
        assert client.get_compatibility() == "BACKWARD"  # the default of a fresh registry
    assert client.set_compatibility(subject, "FULL")["compatibility"] == "FULL"
    assert client.get_compatibility(subject) == "FULL"


def test_compatibility_check_route(client: SchemaRegistryClient, subject: str) -> None:
    client.register_schema(subject, Schema(A, "AVRO"))
    client.set_compatibility(subject, "BACKWARD")
    assert client.test_compatibility(subject, Schema(A2, "AVRO")) is True
    changed = record("A", {"name": "x", "type": "string"})
    assert client.test_compatibility(subject, Schema(changed, "AVRO"), version=1) is False


def test_references_resolve(client: SchemaRegistryClient, subject: str) -> None:
    address_subject = f"{subject}-address"
    address = record("Address", {"name": "street", "type": "string"}, namespace="t.ref")
    client.register_schema(address_subject, Schema(address, "AVRO"))
    person = record("Person", {"name": "home", "type": "t.ref.Address"}, namespace="t.ref")
    ref = SchemaReference("t.ref.Address", address_subject, 1)
    person_id = client.register_schema(subject, Schema(person, "AVRO", [ref]))
    fetched = client.get_schema(person_id)
    assert [(r.name, r.subject, r.version) for r in fetched.references] == [("t.ref.Address", address_subject, 1)]
    missing = SchemaReference("t.ref.Nope", address_subject, 7)
    with pytest.raises(SchemaRegistryError) as info:
        client.register_schema(f"{subject}-bad", Schema(person, "AVRO", [missing]))
    assert info.value.http_status_code == 422


def test_remaining_routes_over_plain_http(registry_url: str, client: SchemaRegistryClient, subject: str) -> None:
    """Routes the client library has no method for (or wraps differently), checked over HTTP."""
    import httpx

    schema_id = client.register_schema(subject, Schema(A, "AVRO"))
    raw = httpx.get(f"{registry_url}/subjects/{subject}/versions/1/schema")
    assert raw.status_code == 200
    assert json.loads(raw.text) == json.loads(A)
    assert httpx.get(f"{registry_url}/subjects/{subject}/versions/latest").json()["id"] == schema_id
    assert "AVRO" in httpx.get(f"{registry_url}/schemas/types").json()
    assert httpx.get(f"{registry_url}/schemas/ids/{schema_id}/versions").json() == [
        {"subject": s, "version": v} for s, v in
        sorted((sv.subject, sv.version) for sv in client.get_schema_versions(schema_id))]
    before = httpx.get(f"{registry_url}/config").json()["compatibilityLevel"]
    try:
        assert httpx.put(f"{registry_url}/config", json={"compatibility": "FULL"}).json() == {"compatibility": "FULL"}
        assert httpx.get(f"{registry_url}/config").json() == {"compatibilityLevel": "FULL"}
        assert client.get_compatibility() == "FULL"
    finally:
        httpx.put(f"{registry_url}/config", json={"compatibility": before})
    lookup = httpx.post(f"{registry_url}/subjects/{subject}", json={"schema": A_SPACED})
    assert lookup.json()["version"] == 1


def test_evolution_over_http_per_level(client: SchemaRegistryClient, subject: str) -> None:
    """BACKWARD accepts an added optional field; FORWARD refuses removing a field that has no default."""
    client.register_schema(subject, Schema(A2, "AVRO"))
    client.set_compatibility(subject, "FORWARD")
    removed = record("A", {"name": "y", "type": ["null", "string"], "default": None})  # x (no default) removed
    with pytest.raises(SchemaRegistryError) as info:
        client.register_schema(subject, Schema(removed, "AVRO"))
    assert info.value.http_status_code == 409
    assert "reader_field_missing_default_value" in info.value.error_message
    client.set_compatibility(subject, "BACKWARD")
    widened = record("A", {"name": "x", "type": "int"}, {"name": "y", "type": ["null", "string"], "default": None},
                     {"name": "z", "type": ["null", "long"], "default": None})
    assert client.register_schema(subject, Schema(widened, "AVRO")) > 0


def test_delete_latest_then_permanently(registry_url: str, client: SchemaRegistryClient, subject: str) -> None:
    import httpx

    client.register_schema(subject, Schema(A, "AVRO"))
    client.register_schema(subject, Schema(A2, "AVRO"))
    assert httpx.delete(f"{registry_url}/subjects/{subject}/versions/latest").json() == 2
    assert client.get_versions(subject) == [1]
    assert client.delete_version(subject, 2, permanent=True) == 2
    deleted = httpx.get(f"{registry_url}/subjects/{subject}/versions", params={"deleted": "true"}).json()
    assert deleted == [1]
    with pytest.raises(SchemaRegistryError) as info:
        client.get_version(subject, 2)
    assert info.value.error_code == 40402


def test_subject_config_can_be_deleted(registry_url: str, client: SchemaRegistryClient, subject: str) -> None:
    import httpx

    client.set_compatibility(subject, "NONE")
    response = httpx.delete(f"{registry_url}/config/{subject}")
    assert response.status_code == 200
    assert response.json()["compatibilityLevel"] == "NONE"
    assert httpx.get(f"{registry_url}/config/{subject}").status_code == 404  # no subject level: the global one
    fallback = httpx.get(f"{registry_url}/config/{subject}", params={"defaultToGlobal": "true"}).json()
    assert fallback["compatibilityLevel"] == client.get_compatibility()
