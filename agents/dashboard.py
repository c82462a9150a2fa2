"""What the order domain adds to a worker's /dashboard: the saga's card (``streams.web.cards``).

The numbers are those of ``agents.saga.metrics``, this worker's since it started: sagas started, and how they ended
(completed; compensated: something was undone; failed: nothing to undo), those a compensation left stuck (an
operator's ``POST /sagas/{order_id}/retry`` sends it again), those waiting for a service now, and the 99th
percentile of how long a saga takes from OrderPlaced to its end.
"""

from __future__ import annotations

from streams.web.cards import Card, Stat

__all__ = ["SAGA_CARD"]

SAGA_CARD = Card(
    title="Order sagas",
    hint="this worker's sagas since it started; stuck ones wait for POST /sagas/{order_id}/retry",
    stats=(
        Stat("Started", "streams_sagas", {"event": "started"}),
        Stat("Completed", "streams_sagas", {"event": "completed"}),
        Stat("Compensated", "streams_sagas", {"event": "compensated"}),
        Stat("Failed", "streams_sagas", {"event": "failed"}),
        Stat("Became stuck", "streams_sagas", {"event": "stuck"}),
        Stat("Waiting now", "streams_sagas_waiting"),
        Stat("Duration p99", "streams_saga_duration_seconds", quantile=0.99, unit="s"),
    ),
)
