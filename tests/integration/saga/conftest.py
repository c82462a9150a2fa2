"""Two workers for the module: one whose saga waits long (the test answers every command), one
whose saga times out in about a second (the test stays silent)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from streams.devstack.kafka import KafkaBroker
from tests.integration.harness import Worker, worker_env


@pytest.fixture(scope="module")
def saga_workers(kafka_broker: KafkaBroker, registry: Any, tmp_path_factory: pytest.TempPathFactory
                 ) -> Iterator[dict[str, Worker]]:
    envs = {
        "answered": worker_env(kafka_broker.url, registry.url, STREAMS_SAGA="true",
                               STREAMS_SAGA_STEP_TIMEOUT_S="600"),
        "silent": worker_env(kafka_broker.url, registry.url, STREAMS_SAGA="true", STREAMS_SAGA_STEP_TIMEOUT_S="0.5",
                             STREAMS_SAGA_MAX_ATTEMPTS="2", STREAMS_SAGA_TICK_S="0.1"),
    }
    root: Path = tmp_path_factory.mktemp("saga")
    workers = {name: Worker(env=env, data_dir=root / name) for name, env in envs.items()}
    try:
        for worker in workers.values():  # from this thread: a child dies with the thread that started it
            worker.start()
        yield workers
    finally:
        for worker in workers.values():
            worker.stop()
