"""Liveness and readiness of a worker.

``GET /health`` answers 200 when the worker is ready (consumer assigned, no
rebalance or table recovery under way) and 503 while it is not, with the same
JSON body either way.  An open circuit breaker (a dependency down, its agent's
partitions paused) leaves the worker ready (reads are served) but makes the
status ``degraded``, and ``breakers`` says what each open one waits for.
``GET /health?probe=live`` answers 200 whenever the event loop does (a liveness
probe must not fail during a long recovery).  ``processing_guarantee`` says whether the
worker runs ``at_least_once`` or ``exactly_once`` (``STREAMS_PROCESSING_GUARANTEE``).
"""

from __future__ import annotations

from typing import Any

import faust
from faust.web import Request, Response, View

__all__ = ["health_state", "register_health"]


def health_state(app: faust.App) -> dict[str, Any]:
    recovering = bool(getattr(app, "in_recovery", False))
    rebalancing = bool(getattr(app, "rebalancing", False))
    assignment = sorted(f"{tp.topic}:{tp.partition}" for tp in app.consumer.assignment()) \
        if app.consumer is not None else []
    # Set once the first assignment's tables are recovered and streams resumed.
    recovered = bool(getattr(app.tables, "recovery").completed.is_set())  # noqa: B009 - untyped in Faust
    ready = recovered and not recovering and not rebalancing
    breakers = {agent: {"state": breaker.state.name.lower(), "waiting_for": breaker.waiting_for}
                for agent, breaker in sorted(getattr(app, "breakers", {}).items())}
    degraded = any(b["state"] != "closed" for b in breakers.values())
    settings = getattr(app, "streams_settings", None)  # a StreamsApp's
    return {
        "status": ("degraded" if degraded else "ok") if ready else "starting",
        "live": True,
        "ready": ready,
        "rebalancing": rebalancing,
        "recovering": recovering,
        "recovered": recovered,
        "assigned_partitions": assignment,
        "breakers": breakers,
        "processing_guarantee": settings.processing_guarantee if settings is not None else "at_least_once",
    }


def register_health(app: faust.App) -> None:
    @app.page("/health")
    class Health(View):
        async def get(self, request: Request) -> Response:
            state = health_state(app)
            if request.query.get("probe") == "live":
                return self.json(state)
            return self.json(state, status=200 if state["ready"] else 503)

    del Health
