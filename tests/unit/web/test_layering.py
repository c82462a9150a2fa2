"""``streams.web`` is the platform's HTTP layer: it reaches into nothing of Faust's internals (``streams.recordpath``);
the app is built with the runner that answers unparseable requests with JSON errors."""

from __future__ import annotations

import ast
from pathlib import Path

import streams.web
from streams.app import build_app
from streams.settings import Settings
from streams.web.protocol import JsonErrorAppRunner

WEB = Path(streams.web.__file__).parent


def _imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):  # function bodies too
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_streams_web_imports_nothing_of_streams_recordpath() -> None:
    hits = {path.name: sorted(name for name in _imported(path) if name.startswith("streams.recordpath"))
            for path in sorted(WEB.glob("*.py"))}
    assert {name: modules for name, modules in hits.items() if modules} == {}


def test_a_built_app_serves_unparseable_requests_as_json(tmp_path: Path) -> None:
    app = build_app(Settings(data_dir=tmp_path, app_id="web"))
    assert isinstance(app.web._runner, JsonErrorAppRunner)  # type: ignore[attr-defined]  # Faust's aiohttp driver
