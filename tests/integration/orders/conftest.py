"""Fixtures of the order-domain integration tests: a schema registry of the test's own that can go away."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from streams.devstack.kafka import KafkaBroker
from streams.devstack.ports import free_port
from streams.registry import ThreadedRegistry

__all__ = ["Restartable"]


class Restartable:
    """A registry that can go away and come back, same port, same storage topic (or, ``empty``, a new one:
    a registry that answers, but knows no schema: a permanent error for records written with its ids)."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self.topic = f"_schemas-{uuid.uuid4().hex[:8]}"
        self.port = free_port()
        self.running: ThreadedRegistry | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, empty: bool = False) -> None:
        topic = f"_schemas-{uuid.uuid4().hex[:8]}" if empty else self.topic
        self.running = ThreadedRegistry(self.bootstrap, topic, self.port).start()

    def stop(self) -> None:
        if self.running is not None:
            self.running.stop()
            self.running = None


@pytest.fixture
def own_registry(kafka_broker: KafkaBroker) -> Iterator[Restartable]:
    registry = Restartable(kafka_broker.bootstrap_servers)
    registry.start()
    try:
        yield registry
    finally:
        registry.stop()


@pytest.fixture
def registry_env(stack_env: dict[str, str], own_registry: Restartable) -> dict[str, str]:
    return {**stack_env, "STREAMS_SCHEMA_REGISTRY_URL": own_registry.url}
