"""Our agents with no fan-out rules: decode, four read models, commit (issue 4's workload, beside the naive one)."""

from __future__ import annotations

from agents.app import create_app as create_orders_app
from streams.app import StreamsApp
from streams.settings import Settings


def create_app(settings: Settings) -> StreamsApp:
    return create_orders_app(settings, rules=())
