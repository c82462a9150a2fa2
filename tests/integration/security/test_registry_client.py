"""The schema registry client behind HTTPS and basic auth (as Confluent Cloud's and many in-house registries are):
STREAMS_SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO and STREAMS_SCHEMA_REGISTRY_SSL_CAFILE reach the client the worker
decodes with and `streams schemas check`, and the password is not shown.

The registry here is a stand-in that answers the two calls made (no subject registered yet): what is tested is
the client side, TLS verified against the test's CA and the credentials sent; the registry itself is tested
elsewhere (tests/integration/registry)."""

from __future__ import annotations

import asyncio
import base64
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web
from confluent_kafka.schema_registry.error import SchemaRegistryError

from streams.avro import ConfluentRegistry
from streams.devstack.ports import free_port
from streams.settings import Settings
from tests.integration.harness import streams_cli
from tests.integration.security.certs import Pems, make_pems

USER, PASSWORD = "registry-user", "registry-pa55word"


@pytest.fixture(scope="module")
def pems(tmp_path_factory: pytest.TempPathFactory) -> Pems:
    return make_pems(tmp_path_factory.mktemp("registry-pems"))


@pytest.fixture(scope="module")
def guarded_registry(pems: Pems) -> Iterator[str]:
    """An https URL that answers only requests carrying ``USER:PASSWORD``: 401 otherwise, as a registry would."""
    expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()

    @web.middleware
    async def basic_auth(request: web.Request, handler: web.Handler) -> web.StreamResponse:
        if request.headers.get("Authorization") != expected:
            return web.json_response({"error_code": 401, "message": "Unauthorized"}, status=401)
        return await handler(request)

    async def subjects(request: web.Request) -> web.Response:
        return web.json_response([])

    async def not_registered(request: web.Request) -> web.Response:
        return web.json_response({"error_code": 40401, "message": "Subject not found."}, status=404)

    app = web.Application(middlewares=[basic_auth])
    app.router.add_get("/subjects", subjects)
    app.router.add_post("/compatibility/subjects/{subject}/versions/latest", not_registered)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(pems.server_keystore))  # the broker's key store: its key, certificate and the CA
    port = free_port()
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app)
    loop.run_until_complete(runner.setup())
    loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port, ssl_context=context).start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{port}"
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


def settings(url: str, **env: str) -> Settings:
    return Settings(schema_registry_url=url, **env)  # type: ignore[arg-type]


def test_the_codec_s_client_sends_the_credentials_and_trusts_the_ca(guarded_registry: str, pems: Pems) -> None:
    good = settings(guarded_registry, schema_registry_basic_auth_user_info=f"{USER}:{PASSWORD}",
                    schema_registry_ssl_cafile=str(pems.ca))
    with ConfluentRegistry(good.schema_registry_url, good.registry_client_config) as registry:
        assert registry.client.get_subjects() == []
    anonymous = settings(guarded_registry, schema_registry_ssl_cafile=str(pems.ca))
    with ConfluentRegistry(anonymous.schema_registry_url, anonymous.registry_client_config) as registry, \
            pytest.raises(SchemaRegistryError) as refused:
        registry.client.get_subjects()
    assert refused.value.http_status_code == 401


def test_schemas_check_goes_through_tls_and_basic_auth_without_showing_the_password(
        guarded_registry: str, pems: Pems) -> None:
    env = {"STREAMS_SCHEMA_REGISTRY_URL": guarded_registry, "STREAMS_SCHEMA_REGISTRY_SSL_CAFILE": str(pems.ca),
           "STREAMS_SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO": f"{USER}:{PASSWORD}",
           "STREAMS_SCHEMAS_DIR": str(Path(__file__).parents[3] / "schemas")}
    done = streams_cli(env, "schemas", "check", timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "new (not registered yet)" in done.stdout
    assert PASSWORD not in done.stdout + done.stderr
    untrusted = streams_cli({**env, "STREAMS_SCHEMA_REGISTRY_SSL_CAFILE": str(pems.untrusted_ca)},
                           "schemas", "check", timeout=60)
    assert untrusted.returncode == 1, untrusted.stdout + untrusted.stderr
    assert "CERTIFICATE_VERIFY_FAILED" in untrusted.stderr or "certificate verify failed" in untrusted.stderr
    assert PASSWORD not in untrusted.stdout + untrusted.stderr
