"""The registry's HTTP API (Confluent Schema Registry's REST routes) on aiohttp.

Reads are answered from memory on the event loop; writes run in a thread
(they wait for Kafka).  Every error is Confluent's JSON shape; bad input is a
4xx, never a 500.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from streams.connection import KafkaConnection
from streams.errors import StreamsError
from streams.registry.compat import Level
from streams.registry.errors import BadRequestError, error_response
from streams.registry.schema import Reference
from streams.registry.service import SUPPORTED_TYPES, Registry, canonicalize
from streams.registry.state import RegistryState
from streams.registry.store import KafkaStore
from streams.settings import Settings

__all__ = ["MAX_BODY", "RegistryServer", "build_web_app", "serve"]

log = logging.getLogger(__name__)
MAX_BODY = 2 * 1024 * 1024
CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _json(body: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, text=json.dumps(body), content_type=CONTENT_TYPE)


def _error(status: int, code: int, message: str) -> web.Response:
    return _json({"error_code": code, "message": message}, status=status)


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:  # aiohttp's own: unknown route (404), wrong method (405), too large (413)
        if exc.status < 400:
            raise
        return _error(exc.status, exc.status, exc.reason or "error")
    except Exception as exc:
        if not isinstance(exc, StreamsError):
            log.exception("registry: unhandled error on %s %s", request.method, request.path)
        status, body = error_response(exc)
        return _json(body, status=status)


async def _body(request: web.Request) -> dict[str, Any]:
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise web.HTTPRequestEntityTooLarge(max_size=MAX_BODY, actual_size=request.content_length)
    try:
        raw = await request.read()
        data = json.loads(raw or b"{}")
    except web.HTTPRequestEntityTooLarge:
        raise
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequestError(f"Unrecognized request body: not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise BadRequestError("Unrecognized request body: expected a JSON object")
    return data


def _flag(request: web.Request, name: str) -> bool:
    return request.query.get(name, "false").lower() == "true"


def _int(value: str, what: str) -> int:
    if not value.lstrip("-").isdigit():
        raise BadRequestError(f"{what} {value!r} is not an integer")
    return int(value)


def build_web_app(registry: Registry) -> web.Application:
    app = web.Application(middlewares=[_errors], client_max_size=MAX_BODY)
    r = app.router

    async def in_thread(fn: Callable[[], Any]) -> Any:
        return await asyncio.get_running_loop().run_in_executor(None, fn)

    async def root(request: web.Request) -> web.Response:
        return _json({})

    async def subjects(request: web.Request) -> web.Response:
        return _json(registry.subjects(_flag(request, "deleted")))

    async def versions(request: web.Request) -> web.Response:
        return _json(registry.versions(request.match_info["subject"], _flag(request, "deleted")))

    async def get_version(request: web.Request) -> web.Response:
        m = request.match_info
        return _json(registry.get_version(m["subject"], m["version"], _flag(request, "deleted")))

    async def get_version_schema(request: web.Request) -> web.Response:
        m = request.match_info
        text = registry.get_version(m["subject"], m["version"])["schema"]
        return web.Response(text=text, content_type=CONTENT_TYPE)

    async def register(request: web.Request) -> web.Response:
        body = await _body(request)
        subject = request.match_info["subject"]
        return _json({"id": await in_thread(lambda: registry.register(subject, body))})

    async def lookup(request: web.Request) -> web.Response:
        body = await _body(request)
        return _json(registry.lookup(request.match_info["subject"], body, _flag(request, "deleted")))

    async def delete_version(request: web.Request) -> web.Response:
        m = request.match_info
        permanent = _flag(request, "permanent")
        return _json(await in_thread(lambda: registry.delete_version(m["subject"], m["version"], permanent)))

    async def delete_subject(request: web.Request) -> web.Response:
        subject, permanent = request.match_info["subject"], _flag(request, "permanent")
        return _json(await in_thread(lambda: registry.delete_subject(subject, permanent)))

    async def schema_by_id(request: web.Request) -> web.Response:
        return _json(registry.schema_by_id(_int(request.match_info["id"], "schema id")))

    async def schema_by_id_raw(request: web.Request) -> web.Response:
        text = registry.schema_by_id(_int(request.match_info["id"], "schema id"))["schema"]
        return web.Response(text=text, content_type=CONTENT_TYPE)

    async def ids_versions(request: web.Request) -> web.Response:
        return _json(registry.versions_of_id(_int(request.match_info["id"], "schema id")))

    async def types(request: web.Request) -> web.Response:
        return _json(list(SUPPORTED_TYPES))

    async def get_config(request: web.Request) -> web.Response:
        subject = request.match_info.get("subject")
        level = registry.get_config(subject, _flag(request, "defaultToGlobal"))
        return _json({"compatibilityLevel": level.value})

    async def put_config(request: web.Request) -> web.Response:
        body = await _body(request)
        subject = request.match_info.get("subject")
        value = body.get("compatibility", body.get("compatibilityLevel"))
        level: Level = await in_thread(lambda: registry.set_config(subject, value))
        return _json({"compatibility": level.value})

    async def delete_config(request: web.Request) -> web.Response:
        subject = request.match_info["subject"]
        level: Level = await in_thread(lambda: registry.delete_config(subject))
        return _json({"compatibilityLevel": level.value})

    async def compatibility(request: web.Request) -> web.Response:
        body = await _body(request)
        m = request.match_info
        problems = registry.check(m["subject"], m.get("version", "latest"), body)
        result: dict[str, Any] = {"is_compatible": not problems}
        if _flag(request, "verbose") or problems:
            result["messages"] = problems
        return _json(result)

    r.add_get("/", root)
    r.add_get("/subjects", subjects)
    r.add_get("/subjects/{subject}/versions", versions)
    r.add_post("/subjects/{subject}/versions", register)
    r.add_get("/subjects/{subject}/versions/{version}", get_version)
    r.add_delete("/subjects/{subject}/versions/{version}", delete_version)
    r.add_get("/subjects/{subject}/versions/{version}/schema", get_version_schema)
    r.add_post("/subjects/{subject}", lookup)
    r.add_delete("/subjects/{subject}", delete_subject)
    r.add_get("/schemas/ids/{id}", schema_by_id)
    r.add_get("/schemas/ids/{id}/schema", schema_by_id_raw)
    r.add_get("/schemas/ids/{id}/versions", ids_versions)
    r.add_get("/schemas/types", types)
    r.add_get("/config", get_config)
    r.add_put("/config", put_config)
    r.add_get("/config/{subject}", get_config)
    r.add_put("/config/{subject}", put_config)
    r.add_delete("/config/{subject}", delete_config)
    r.add_post("/compatibility/subjects/{subject}/versions/{version}", compatibility)
    r.add_post("/compatibility/subjects/{subject}/versions", compatibility)
    return app


def _canonicalize(text: str, refs: tuple[Reference, ...], state: RegistryState) -> str:
    return canonicalize(text, refs, state)


class RegistryServer:
    """The registry embedded in a process: ``await start()``, serve, ``await stop()``.

    ``port=0`` binds a free port; ``url`` and ``port`` then give the one bound.
    """

    def __init__(self, kafka: KafkaConnection, *, host: str = "127.0.0.1", port: int = 8081,
                 topic: str = "_schemas", timeout: float = 30.0, replication_factor: int | None = None,
                 min_insync_replicas: int | None = None) -> None:
        self.host, self.port, self.topic = host, port, topic
        self.store = KafkaStore(kafka, topic, RegistryState(canonicalize=_canonicalize), timeout=timeout,
                                replication_factor=replication_factor, min_insync_replicas=min_insync_replicas)
        self._runner: web.AppRunner | None = None

    @classmethod
    def from_settings(cls, settings: Settings, host: str | None = None, port: int | None = None) -> RegistryServer:
        """Bound to the host and port of ``STREAMS_SCHEMA_REGISTRY_URL`` unless given."""
        default_host, default_port = settings.registry_host_port
        return cls(settings.kafka, host=host or default_host,
                   port=default_port if port is None else port, replication_factor=settings.replication_factor,
                   min_insync_replicas=settings.min_insync_replicas)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> RegistryServer:
        """Read ``_schemas`` to its end, then listen; ``TransientError`` (Kafka) or ``OSError`` (port) if not."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self.store.start)
        try:
            self._runner = web.AppRunner(build_web_app(Registry(self.store)), access_log=None)
            await self._runner.setup()
            site = web.TCPSite(self._runner, self.host, self.port)
            await site.start()
        except BaseException:
            await self.stop()
            raise
        addresses = self._runner.addresses  # the bound socket tells the port chosen for port=0
        if addresses:
            self.port = int(addresses[0][1])
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await asyncio.get_running_loop().run_in_executor(None, self.store.stop)


def serve(settings: Settings, host: str | None = None, port: int | None = None,
          on_ready: Callable[[str], None] | None = None) -> None:
    """Run the registry until SIGINT/SIGTERM; raises ``TransientError``/``OSError`` if it cannot start."""
    server = RegistryServer.from_settings(settings, host, port)

    async def main() -> None:
        await server.start()
        if on_ready is not None:
            on_ready(server.url)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await stop.wait()
        finally:
            await server.stop()

    asyncio.run(main())
