"""Our agents with no fan-out rules: decode, four read models, commit (issue 4's workload, beside the naive one).

Beside ``create_app``, ``read_models``: the order domain's own, which ``streams replay --rebuild`` (``bench.rebuild``)
looks up next to the app factory (``streams.loader.beside_factory``).
"""

from __future__ import annotations

from agents.app import create_app as create_orders_app
from agents.tables import read_models
from streams.app import StreamsApp
from streams.settings import Settings

__all__ = ["create_app", "read_models"]


def create_app(settings: Settings) -> StreamsApp:
    return create_orders_app(settings, rules=())
