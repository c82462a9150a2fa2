"""A real Kafka broker for the whole session, and a fresh topic name per test.

The broker runs from the Maven-fetched jars (or KAFKA_HOME) on free loopback
ports in a temporary directory; it is stopped when the session ends.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka.admin import AdminClient, NewTopic

from streams.devstack.kafka import KafkaBroker
from streams.settings import Settings
from tests.integration.harness import Restartable, worker_env

pytestmark = pytest.mark.integration


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration" in str(item.path):
            item.add_marker(pytest.mark.integration)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A failed test shows the tail of every worker log it started: a CI failure must be readable."""
    report = yield
    if report.failed and call.when in ("setup", "call"):
        from tests.integration.harness import STARTED

        for worker in STARTED:
            report.sections.append((f"worker :{worker.port} log (tail)", worker.log_tail()))
    return report


@pytest.fixture(autouse=True)
def _forget_started_workers() -> None:
    from tests.integration.harness import STARTED

    STARTED.clear()


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaBroker]:
    settings = Settings()
    broker = KafkaBroker(
        data_dir=tmp_path_factory.mktemp("kafka"),
        cache_dir=settings.kafka_cache_dir,
        kafka_home=settings.kafka_home,
    )
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture(scope="session")
def admin(kafka_broker: KafkaBroker) -> AdminClient:
    return AdminClient({"bootstrap.servers": kafka_broker.bootstrap_servers})


@pytest.fixture
def make_topic(admin: AdminClient) -> Callable[..., str]:
    """Create a uniquely named topic (so tests never see each other's data) and return its name."""

    def _make(prefix: str = "t", partitions: int = 1, config: dict[str, str] | None = None) -> str:
        name = f"{prefix}-{uuid.uuid4().hex[:10]}"
        futures = admin.create_topics([NewTopic(name, partitions, 1, config=config or {})])
        futures[name].result(timeout=30)
        return name

    return _make


@pytest.fixture(scope="session")
def registry(kafka_broker: KafkaBroker) -> Iterator[Any]:
    """The embedded registry on the session broker, served from a background thread."""
    from tests.integration.registry.conftest import BackgroundRegistry

    server = BackgroundRegistry(kafka_broker.connection, f"_schemas-{uuid.uuid4().hex[:8]}").start()
    try:
        yield server
    finally:
        server.stop()


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


@pytest.fixture
def stack_env(kafka_broker: KafkaBroker, registry: Any) -> dict[str, str]:
    """Settings for a worker of this test only: its own topic prefix and app id."""
    return worker_env(kafka_broker.url, registry.url)


@pytest.fixture
def unique_id() -> str:
    return uuid.uuid4().hex[:10]


@pytest.fixture
def work_dir(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture
def worker(stack_env: dict[str, str], tmp_path: Path) -> Iterator[Any]:
    """One worker of this test's stack (its own topics and group), stopped after the test."""
    from tests.integration.harness import Worker

    started = Worker(env=stack_env, data_dir=tmp_path / "w1").start()
    try:
        yield started
    finally:
        started.stop()
