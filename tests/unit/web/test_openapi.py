"""The OpenAPI document (agents/openapi.json, GET /openapi.json) lists exactly the routes the worker registers."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pydantic.json_schema import models_json_schema

from agents.app import OPENAPI, create_app
from agents.events.catalog import MODELS
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


def test_the_event_schemas_are_those_of_the_models() -> None:
    """POST /events' ``data`` is documented by the pydantic models that validate it; a changed model shows here."""
    _, expected = models_json_schema([(model, "validation") for model in MODELS.values()],
                                     ref_template="#/components/schemas/{model}")
    schemas = json.loads(OPENAPI.read_text(encoding="utf-8"))["components"]["schemas"]
    stale = {name: schema for name, schema in expected["$defs"].items() if schemas.get(name) != schema}
    assert stale == {}, "replace these in agents/openapi.json components.schemas:\n" + json.dumps(stale, indent=2)
    names = {variant["properties"]["type"]["const"] for variant in schemas["EventRequest"]["oneOf"]}
    assert names == set(MODELS)
