"""Our agents with no fan-out rules: decode, four read models, commit (issue 4's workload, beside the naive one).

Beside ``create_app``, what the CLI looks up next to an app factory (``streams.loader.beside_factory``) is the order
domain's own: ``streams replay --rebuild`` (``bench.rebuild``) reads the read models from here.
"""

from __future__ import annotations

from agents.app import create_app as create_orders_app
from agents.app import create_ingest
from agents.tables import read_models
from streams.app import StreamsApp
from streams.settings import Settings

__all__ = ["create_app", "create_ingest", "read_models"]


def create_app(settings: Settings) -> StreamsApp:
    return create_orders_app(settings, rules=())
