"""ConfluentRegistry classifies registry answers: 40403 is permanent, an unreachable registry is retriable."""

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from streams.avro import (
    SCHEMA_NOT_FOUND,
    AvroCodec,
    AvroSchema,
    ConfluentRegistry,
    RegistryUnavailableError,
    UnknownSchemaIdError,
    frame,
)
from streams.errors import ConflictError, ValidationError

FAST = {"max.retries": 0, "timeout": 5}
SCHEMA = '{"type":"record","name":"R","namespace":"t","fields":[{"name":"a","type":"long"}]}'


class Stub(ThreadingHTTPServer):
    """Answers every request with ``status`` and ``body`` (a registry that says what the test wants)."""

    status = 200
    body: object = {}
    requests: list[tuple[str, str]]


class Handler(BaseHTTPRequestHandler):
    server: Stub

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self.server.requests.append((self.command, self.path))
        payload = self.server.body if isinstance(self.server.body, bytes) else json.dumps(self.server.body).encode()
        self.send_response(self.server.status)
        self.send_header("Content-Type", "application/vnd.schemaregistry.v1+json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = _answer  # noqa: N815

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def stub() -> Iterator[Stub]:
    server = Stub(("127.0.0.1", 0), Handler)
    server.requests = []
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def registry_for(stub: Stub) -> ConfluentRegistry:
    return ConfluentRegistry(f"http://127.0.0.1:{stub.server_address[1]}", FAST)


def test_schema_by_id(stub: Stub) -> None:
    stub.body = {"schema": SCHEMA}
    with registry_for(stub) as registry:
        assert json.loads(registry.schema_text(5)) == json.loads(SCHEMA)
    assert stub.requests[0][1].startswith("/schemas/ids/5")


def test_register_returns_the_id(stub: Stub) -> None:
    stub.body = {"id": 42}
    with registry_for(stub) as registry:
        assert registry.register("orders-t.R", SCHEMA) == 42
    method, path = stub.requests[0]
    assert (method, path.split("?")[0]) == ("POST", "/subjects/orders-t.R/versions")


def test_unknown_schema_id_40403_is_permanent(stub: Stub) -> None:
    stub.status, stub.body = 404, {"error_code": SCHEMA_NOT_FOUND, "message": "Schema 7 not found"}
    with registry_for(stub) as registry, pytest.raises(UnknownSchemaIdError, match="Schema 7 not found") as info:
        AvroCodec(registry).decode(frame(7, b"\x02"))
    assert info.value.dead_letter
    assert not info.value.retriable


@pytest.mark.parametrize(("status", "body"), [
    (500, {"error_code": 50001, "message": "Error in the backend data store"}),
    (503, b"<html>Service Unavailable</html>"),
    (404, b"<html>no such path: wrong registry URL?</html>"),  # not the registry speaking: not the record's fault
    (401, {"error_code": 40101, "message": "Unauthorized"}),
])
def test_other_registry_failures_are_retriable(stub: Stub, status: int, body: object) -> None:
    stub.status, stub.body = status, body
    with registry_for(stub) as registry, pytest.raises(RegistryUnavailableError) as info:
        AvroCodec(registry).decode(frame(7, b"\x02"))
    assert info.value.retriable
    assert not isinstance(info.value, UnknownSchemaIdError)


def test_an_unreachable_registry_is_retriable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with ConfluentRegistry(f"http://127.0.0.1:{port}", FAST) as registry:
        with pytest.raises(RegistryUnavailableError, match="unreachable") as info:
            registry.schema_text(1)
        assert info.value.retriable
        with pytest.raises(RegistryUnavailableError, match="unreachable"):
            registry.register("s", SCHEMA)


@pytest.mark.parametrize(("status", "code", "error"), [
    (409, 409, ConflictError), (422, 42201, ValidationError), (500, 50001, RegistryUnavailableError),
])
def test_register_failures_are_classified(stub: Stub, status: int, code: int, error: type[Exception]) -> None:
    stub.status, stub.body = status, {"error_code": code, "message": "no"}
    with registry_for(stub) as registry, pytest.raises(error):
        AvroCodec(registry).encode("orders", AvroSchema.from_text(SCHEMA), {"a": 1})
