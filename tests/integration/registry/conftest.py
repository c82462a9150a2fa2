"""A registry per test module on the session broker, or the one at STREAMS_TEST_REGISTRY_URL.

Set STREAMS_TEST_REGISTRY_URL to run the client tests against any
Confluent-compatible registry (Confluent's own, for example); tests that need
the embedded registry itself (restarts, two instances on one topic) are then
skipped with a reason, and no broker is started for the client tests.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient

from streams.devstack.kafka import KafkaBroker
from streams.registry.threaded import ThreadedRegistry as BackgroundRegistry

__all__ = ["EXTERNAL", "BackgroundRegistry"]

EXTERNAL = os.environ.get("STREAMS_TEST_REGISTRY_URL")
EMBEDDED_ONLY_REASON = "STREAMS_TEST_REGISTRY_URL is set: this test runs the embedded registry itself"


@pytest.fixture(scope="module")
def registry_url(request: pytest.FixtureRequest) -> Iterator[str]:
    if EXTERNAL:
        yield EXTERNAL.rstrip("/")
        return
    broker: KafkaBroker = request.getfixturevalue("kafka_broker")
    registry = BackgroundRegistry(broker.connection, f"_schemas-{uuid.uuid4().hex[:8]}").start()
    try:
        yield registry.url
    finally:
        registry.stop()


@pytest.fixture
def embedded_only() -> None:
    """Skip (with the reason) when the tests point at an external registry."""
    if EXTERNAL:
        pytest.skip(EMBEDDED_ONLY_REASON)


@pytest.fixture
def client(registry_url: str) -> Iterator[SchemaRegistryClient]:
    with SchemaRegistryClient({"url": registry_url}) as registry_client:
        yield registry_client


@pytest.fixture
def subject() -> str:
    return f"test-{uuid.uuid4().hex[:10]}-value"
