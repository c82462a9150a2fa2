"""HTTP routes over the read models: each GET is routed to the worker owning the key.

README.md's "Reading the read models" section describes the routes and what they answer.

Every body carries ``_meta`` saying what the read model had applied; ``?after=
<partition>:<offset>`` (what POST /events returned) waits, up to ``?wait=``
seconds (default STREAMS_READ_WAIT_TIMEOUT_S), until that write is applied, and
answers 504 otherwise.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, cast

from aiohttp import web
from faust.web import Request, Response

from agents.ingest import OrderIngest
from agents.readmodels.stats import STATS_KEY
from agents.tables import Tables
from agents.topics import orders_topic
from streams.app import StreamsApp
from streams.errors import NotFoundError
from streams.freshness import Watermarks
from streams.position import key_partition
from streams.recordpath.inbox import DeltaInbox
from streams.recordpath.protocol import format_tp
from streams.replay import Generational
from streams.web.auth import check_bearer
from streams.web.body import read_json
from streams.web.views import JsonView, after_param, routed, wait_param

__all__ = ["register_views"]


def register_views(app: StreamsApp, tables: Tables, marks: Watermarks, topics: dict[str, Any],
                   inboxes: dict[str, DeltaInbox], make_ingest: Callable[[], OrderIngest]) -> None:
    """``topics``: the source topic of each read model, by name, for routing GETs to the key's owner;
    ``inboxes``: what the delta-fed read models have applied, per partition (``_meta.applied``, ``?after=``)."""
    settings = app.streams_settings
    orders = orders_topic(settings)
    metrics = app.metrics

    def serving(model: Generational, key: str) -> tuple[Any, dict[str, Any]]:
        """The table answering for ``key`` (the old generation while a rebuild catches up) and its meta."""
        partition = key_partition(key.encode(), settings.topic_partitions)
        return model.serving(partition), model.meta(partition)

    def meta(read_model: str, applied: Any, generation: dict[str, Any]) -> dict[str, Any]:
        return {"read_model": read_model, "applied": applied, **generation}

    def applied_in(model: Generational, key: str) -> dict[str, int]:
        """Per orders partition, the last offset whose deltas the key's partition of ``model`` has applied."""
        partition = key_partition(key.encode(), settings.topic_partitions)
        return inboxes[model.name].applied(partition, model.meta(partition)["generation"])

    async def wait_key_applied(request: Request, model: Generational, key: str, what: str) -> None:
        after = after_param(request, settings.topic_partitions)
        if after is None:
            return
        partition, offset = after
        mark = format_tp(orders, partition)

        def applied() -> bool:
            return applied_in(model, key).get(mark, -1) >= offset

        await marks.until(applied, wait_param(request, settings.read_wait_timeout_s),
                          f"{what} (after {partition}:{offset})")

    @app.page("/orders/{order_id}")
    class OrderView(JsonView):
        @routed(app, topics["orders"], match_info="order_id")
        async def get(self, request: Request, order_id: str) -> Response:
            started = time.perf_counter()
            after = after_param(request, settings.topic_partitions)
            if after is not None:
                await marks.wait_for(orders, after[0], after[1],
                                     wait_param(request, settings.read_wait_timeout_s))
            table, generation = serving(tables.orders, order_id)
            view = table.get(order_id)
            metrics.query_seconds.labels("/orders").observe(time.perf_counter() - started)
            if view is None:
                raise NotFoundError(f"no order {order_id!r}")
            return self.json({**view, "_meta": meta("orders", view["applied"], generation)})

    def keyed_view(path: str, param: str, model: Generational, topic: Any, label: str) -> None:
        """GET <path>/{param}: the view of one key of ``model``, routed to the worker consuming ``topic``."""

        @app.page(f"{path}/{{{param}}}")
        class KeyedView(JsonView):
            @routed(app, topic, match_info=param)
            async def get(self, request: Request, **kwargs: str) -> Response:
                key = request.match_info[param]
                started = time.perf_counter()
                await wait_key_applied(request, model, key, f"{label} {key!r}")
                table, generation = serving(model, key)
                view = table.get(key)
                metrics.query_seconds.labels(path).observe(time.perf_counter() - started)
                if view is None:
                    raise NotFoundError(f"no {label} {key!r}")
                return self.json({**view, "_meta": meta(model.name, applied_in(model, key), generation)})

        del KeyedView

    keyed_view("/customers", "customer_id", tables.customers, topics["customers"], "customer")
    keyed_view("/inventory", "sku", tables.inventory, topics["inventory"], "stock record for sku")

    @app.page("/stats")
    class StatsView(JsonView):
        @routed(app, topics["stats"], exact_key=STATS_KEY)
        async def get(self, request: Request) -> Response:
            started = time.perf_counter()
            await wait_key_applied(request, tables.stats, STATS_KEY, "stats")
            table, generation = serving(tables.stats, STATS_KEY)
            view = table.get(STATS_KEY) or {"orders_by_status": {}, "revenue_minor_by_hour": {},
                                             "revenue_minor_total": {}}
            metrics.query_seconds.labels("/stats").observe(time.perf_counter() - started)
            return self.json({**view, "_meta": meta("stats", applied_in(tables.stats, STATS_KEY), generation)})

    ingest_ref: dict[str, OrderIngest] = {}

    def ingest() -> OrderIngest:
        if "ingest" not in ingest_ref:
            ingest_ref["ingest"] = make_ingest()
        return ingest_ref["ingest"]

    @app.page("/events")
    class Events(JsonView):
        async def post(self, request: Request) -> Response:
            check_bearer(request.headers.get("Authorization"), settings.api_token)
            body = await read_json(cast(web.BaseRequest, request))  # Faust's Request is aiohttp's
            service = ingest()
            prepared = await asyncio.get_running_loop().run_in_executor(None, service.prepare, body)
            position = await service.send(prepared)
            metrics.produced.labels(position.topic, "http").inc()
            return self.json(prepared.receipt(position), status=202)

    del OrderView, StatsView, Events
