"""HTTP routes of the saga: ``GET /sagas/{order_id}`` and ``POST /sagas/{order_id}/retry``.

Both are routed to the worker that owns the order's partition of the saga inbox, as the read models' GETs are.
A retry is not applied here: it is written to the inbox and judged by the saga agent like any event (so it is
applied once, in order with the saga's replies); 202 says it was written, ``GET`` shows what it did.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from faust.web import Request, Response

from agents.saga.agent import SagaTables
from agents.saga.inbox import RETRY, signal
from agents.saga.state import record_id
from streams.app import StreamsApp
from streams.errors import ConflictError, NotFoundError
from streams.position import key_partition
from streams.producer import DurableProducer
from streams.web.auth import check_bearer
from streams.web.views import JsonView, routed

__all__ = ["register_saga_views"]


def register_saga_views(app: StreamsApp, tables: SagaTables, inbox: Any,
                        producer: Callable[[], DurableProducer]) -> None:
    """``inbox``: the saga inbox's Faust topic (what GETs are routed by)."""
    settings = app.streams_settings
    metrics = app.metrics
    model = tables.sagas
    name = f"{settings.producer_name}/http"

    def saga(order_id: str) -> dict[str, Any]:
        partition = key_partition(order_id.encode(), settings.topic_partitions)
        state = model.serving(partition).get(order_id)
        if state is None:
            raise NotFoundError(f"no saga for order {order_id!r}")
        return {**state, "_meta": {"read_model": "sagas", **model.meta(partition)}}

    @app.page("/sagas/{order_id}")
    class SagaView(JsonView):
        @routed(app, inbox, match_info="order_id")
        async def get(self, request: Request, order_id: str) -> Response:
            started = time.perf_counter()
            body = saga(order_id)
            metrics.query_seconds.labels("/sagas").observe(time.perf_counter() - started)
            return self.json(body)

    @app.page("/sagas/{order_id}/retry")
    class SagaRetry(JsonView):
        @routed(app, inbox, match_info="order_id")
        async def post(self, request: Request, order_id: str) -> Response:
            check_bearer(request.headers.get("Authorization"), settings.api_token)
            state = saga(order_id)
            if state["status"] != "stuck":
                raise ConflictError(f"the saga of order {order_id!r} is {state['status']}, not stuck: nothing to "
                                      "retry")
            if state["step"] is None:  # a late shipment: no command to send again, a person decides
                raise ConflictError(f"the saga of order {order_id!r} has no step to retry: {state['reason']}")
            event_id = record_id(order_id, f"{RETRY}/{len(state['history'])}")
            key, value, headers = signal(RETRY, order_id, event_id, name, {})
            position = await producer().send(model.topic, key, value, headers)
            return self.json({"order_id": order_id, "retry_id": event_id, "step": state["step"],
                              "partition": position.partition, "offset": position.offset}, status=202)

    del SagaView, SagaRetry
