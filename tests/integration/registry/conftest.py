"""A registry per test module on the session broker, or the one at STREAMS_TEST_REGISTRY_URL.

Set STREAMS_TEST_REGISTRY_URL to run the client tests against any
Confluent-compatible registry (Confluent's own, for example).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient

from streams.devstack.kafka import KafkaBroker
from streams.registry.threaded import ThreadedRegistry as BackgroundRegistry

EXTERNAL = os.environ.get("STREAMS_TEST_REGISTRY_URL")


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
