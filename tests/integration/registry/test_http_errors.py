"""Bad input gets Confluent's 4xx error bodies, never a 500."""

from __future__ import annotations

import json

import httpx
import pytest

# Our answers to bad input; Confluent's registry supports JSON and PROTOBUF, so these run on the embedded one.
pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("embedded_only")]
RECORD = json.dumps({"type": "record", "name": "R", "namespace": "t", "fields": [{"name": "a", "type": "int"}]})
CT = {"Content-Type": "application/vnd.schemaregistry.v1+json"}


@pytest.mark.parametrize(("method", "path", "body", "status", "code"), [
    ("POST", "/subjects/s-json/versions", b"{not json", 400, 400),
    ("POST", "/subjects/s-list/versions", b"[1,2]", 400, 400),
    ("POST", "/subjects/s-na/versions", json.dumps({"schema": "not avro"}).encode(), 422, 42201),
    ("POST", "/subjects/s-na2/versions", json.dumps({"schema": '{"type":"record"}'}).encode(), 422, 42201),
    ("POST", "/subjects/s-pb/versions", json.dumps({"schema": "syntax = \"proto3\";", "schemaType": "PROTOBUF"})
     .encode(), 422, 42201),
    ("POST", "/subjects/s-js/versions", json.dumps({"schema": "{}", "schemaType": "JSON"}).encode(), 422, 42201),
    ("POST", "/subjects/s-empty/versions", b"{}", 422, 42201),
    ("GET", "/subjects/none-such/versions/abc", None, 422, 42202),
    ("GET", "/subjects/none-such/versions/0", None, 422, 42202),
    ("GET", "/subjects/none-such/versions/1", None, 404, 40401),
    ("GET", "/schemas/ids/abc", None, 400, 400),
    ("GET", "/nowhere", None, 404, 404),
    ("POST", "/subjects/s-ref/versions", json.dumps({"schema": RECORD, "references": [{"name": "x"}]}).encode(),
     422, 42201),
    ("POST", "/subjects/s-num/versions", json.dumps({"schema": 42}).encode(), 422, 42201),
    ("POST", "/subjects/s-utf/versions", b"\xff\xfe{", 400, 400),
    ("POST", "/compatibility/subjects/nobody/versions/latest", json.dumps({"schema": RECORD}).encode(), 404, 40401),
    ("GET", "/config/nobody", None, 404, 40408),
    ("PUT", "/config", json.dumps({"compatibility": "SIDEWAYS"}).encode(), 422, 42203),
    ("DELETE", "/schemas/types", None, 405, 405),
])
def test_bad_requests(registry_url: str, method: str, path: str, body: bytes | None, status: int, code: int) -> None:
    response = httpx.request(method, registry_url + path, content=body, headers=CT)
    assert response.status_code == status, response.text
    assert response.json()["error_code"] == code
    assert "Traceback" not in response.text


def test_oversized_body_is_413(registry_url: str) -> None:
    huge = json.dumps({"schema": RECORD, "pad": "x" * (3 * 1024 * 1024)}).encode()
    response = httpx.post(f"{registry_url}/subjects/big/versions", content=huge, headers=CT)
    assert response.status_code == 413
    assert response.json()["error_code"] == 413


@pytest.mark.parametrize("content_type", ["application/vnd.schemaregistry.v1+json", "application/json"])
def test_both_content_types(registry_url: str, content_type: str) -> None:
    response = httpx.post(f"{registry_url}/subjects/ct-{content_type[-4:]}/versions",
                          content=json.dumps({"schema": RECORD}), headers={"Content-Type": content_type})
    assert response.status_code == 200
    assert isinstance(response.json()["id"], int)


def test_incompatible_is_409_and_names_each_problem(registry_url: str) -> None:
    subject = "evolve-409"
    httpx.post(f"{registry_url}/subjects/{subject}/versions", json={"schema": RECORD}).raise_for_status()
    changed = json.dumps({"type": "record", "name": "R", "namespace": "t",
                          "fields": [{"name": "a", "type": "string"}, {"name": "b", "type": "int"}]})
    response = httpx.post(f"{registry_url}/subjects/{subject}/versions", json={"schema": changed})
    assert response.status_code == 409
    body = response.json()
    assert body["error_code"] == 409
    assert "type_mismatch" in body["message"]
    assert "reader_field_missing_default_value" in body["message"]
