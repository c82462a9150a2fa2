"""The order domain: events, projections, agents and routes, on the ``streams`` platform."""

from agents.app import create_app, create_demo, create_ingest

__all__ = ["create_app", "create_demo", "create_ingest"]
