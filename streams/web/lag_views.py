"""GET /api/lag (consumer lag as JSON) and GET /dashboard (the same for people), with the monitor behind them.

/api/lag also says, per agent, its circuit breaker and what an open one waits for (as /health does), so the
dashboard shows an agent held by a dependency that is down.  GET /api/cards answers the cards the domain
registered (``streams.web.cards``), which the dashboard shows below the lag.
"""

from __future__ import annotations

import asyncio
from importlib import resources
from typing import TYPE_CHECKING

from faust.web import Request, Response, View

from streams.dlq.tally import DeadLetterTally
from streams.lag.isolated import IsolatedSampler
from streams.lag.metrics import LagGauges
from streams.lag.monitor import LagMonitor
from streams.web.cards import read_card
from streams.web.health import health_state

if TYPE_CHECKING:  # streams.app imports streams.web for its metrics
    from streams.app import StreamsApp

__all__ = ["register_lag"]


def register_lag(app: StreamsApp) -> LagMonitor:
    """Sample lag in the background of the worker and serve it; returns the monitor."""
    settings = app.streams_settings
    monitor = LagMonitor(
        IsolatedSampler(settings.kafka), LagGauges(app.metrics.registry),  # cannot abort the worker
        groups=[app.conf.id, *settings.lag_group_names],
        tally=DeadLetterTally(settings.kafka, topic_prefix=settings.topic_prefix),
        interval_s=settings.lag_interval_s, window=settings.lag_window,
    )
    page = resources.files("streams.web").joinpath("static/dashboard.html").read_text(encoding="utf-8")

    async def sample_lag() -> None:
        try:
            await monitor.run()
        finally:
            await asyncio.to_thread(monitor.close)  # waits for a sample still running in its thread

    app.task(sample_lag)

    @app.page("/api/lag")
    class LagApi(View):
        async def get(self, request: Request) -> Response:
            return self.json({**monitor.snapshot(), "breakers": health_state(app)["breakers"]})

    @app.page("/api/cards")
    class CardsApi(View):
        async def get(self, request: Request) -> Response:
            return self.json({"cards": [read_card(card, app.metrics.registry) for card in app.cards]})

    @app.page("/dashboard")
    class Dashboard(View):
        async def get(self, request: Request) -> Response:
            return self.html(page)

    del LagApi, CardsApi, Dashboard
    return monitor
