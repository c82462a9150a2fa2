"""A registry per test module on the session broker, or the one at STREAMS_TEST_REGISTRY_URL.

Set STREAMS_TEST_REGISTRY_URL to run the client tests against any
Confluent-compatible registry (Confluent's own, for example).
"""

from __future__ import annotations

import asyncio
import os
import threading
import uuid
from collections.abc import Iterator

import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient

from streams.devstack.kafka import KafkaBroker
from streams.devstack.ports import free_port
from streams.registry import RegistryServer

EXTERNAL = os.environ.get("STREAMS_TEST_REGISTRY_URL")


class BackgroundRegistry:
    """A RegistryServer on its own event loop in a thread, so sync clients can call it."""

    def __init__(self, bootstrap: str, topic: str, port: int | None = None) -> None:
        self.server = RegistryServer(bootstrap, port=port or free_port(), topic=topic)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def start(self) -> BackgroundRegistry:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start(), self.loop).result(60)
        return self

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)

    @property
    def url(self) -> str:
        return self.server.url


@pytest.fixture(scope="module")
def registry_url(kafka_broker: KafkaBroker) -> Iterator[str]:
    if EXTERNAL:
        yield EXTERNAL
        return
    registry = BackgroundRegistry(kafka_broker.bootstrap_servers, f"_schemas-{uuid.uuid4().hex[:8]}").start()
    try:
        yield registry.url
    finally:
        registry.stop()


@pytest.fixture
def client(registry_url: str) -> Iterator[SchemaRegistryClient]:
    with SchemaRegistryClient({"url": registry_url}) as registry_client:
        yield registry_client


@pytest.fixture
def subject() -> str:
    return f"test-{uuid.uuid4().hex[:10]}-value"
