"""The OpenAPI document (agents/openapi.json, GET /openapi.json) lists exactly the routes the worker registers."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from agents.app import create_app
from agents.events.catalog import MODELS
from agents.openapi import OPENAPI, openapi_document
from streams.replay.rebuilds import RebuildLog
from streams.settings import Settings

METHODS = {"get", "post", "put", "patch", "delete"}


def documented() -> set[tuple[str, str]]:
    paths = json.loads(OPENAPI.read_text(encoding="utf-8"))["paths"]
    return {(method.upper(), path) for path, item in paths.items() for method in item if method in METHODS}


def test_the_document_lists_exactly_the_routes_the_app_registers(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(RebuildLog, "latest", lambda self, group: {})  # no broker here: no rebuild under way
    app = create_app(Settings(data_dir=tmp_path, app_id="openapi"))
    app.web.init_server()  # what the worker does as its web server starts: Faust's own pages too
    registered = {(route.method, route.resource.canonical) for route in app.web.web_app.router.routes()
                  if route.method != "HEAD" and route.resource is not None}  # aiohttp adds HEAD to every GET
    assert registered == documented()


def test_every_path_parameter_is_declared() -> None:
    document = json.loads(OPENAPI.read_text(encoding="utf-8"))
    for path, item in document["paths"].items():
        for method, operation in item.items():
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == set(re.findall(r"{(\w+)}", path)), f"{method} {path}"


def test_post_events_takes_one_variant_per_event_model_and_every_reference_resolves() -> None:
    """POST /events' ``data`` is documented by the pydantic models that validate it (``agents.openapi``)."""
    document = openapi_document()
    schemas = document["components"]["schemas"]
    variants = {v["properties"]["type"]["const"]: v["properties"]["data"]["$ref"]
                for v in schemas["EventRequest"]["oneOf"]}
    assert variants == {name: f"#/components/schemas/{name}" for name in MODELS}
    for name, model in MODELS.items():
        assert set(schemas[name]["properties"]) == set(model.model_fields)
    refs = set(re.findall(r'"\$ref": "#/components/(\w+)/(\w+)"', json.dumps(document)))
    assert refs  # the document does refer to its components
    missing = {(kind, name) for kind, name in refs if name not in document["components"].get(kind, {})}
    assert missing == set()
