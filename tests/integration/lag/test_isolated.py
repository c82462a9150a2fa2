"""``IsolatedSampler``: a sampler child that dies (librdkafka's abort, simulated with SIGABRT) fails one sample
with a clear error; the next sample starts a new child and works.  The worker itself never sees the abort."""

from __future__ import annotations

import os
import signal
from typing import Any

import pytest

from streams.connection import KafkaConnection
from streams.devstack.kafka import KafkaBroker
from streams.devstack.ports import free_port
from streams.errors import TransientError
from streams.lag.isolated import IsolatedSampler
from tests.integration.harness import wait_until

pytestmark = pytest.mark.integration


def test_a_dead_sampler_child_fails_one_sample_and_the_next_one_starts_a_new_child(
        kafka_broker: KafkaBroker) -> None:
    sampler = IsolatedSampler(kafka_broker.connection)
    try:
        def answered() -> list[Any] | None:  # a fresh broker may not have a coordinator for the group yet
            try:
                return sampler.sample(["streams-isolated-test"], seconds=False)
            except TransientError:
                return None

        before = wait_until(answered, timeout=60, what="a first sample")
        assert [g.group for g in before] == ["streams-isolated-test"]
        pid = sampler.pid
        before_kills = sampler.started
        assert pid is not None
        assert pid != os.getpid()
        os.kill(pid, signal.SIGABRT)  # what librdkafka's failed assertion does to its process
        with pytest.raises(TransientError, match=r"lag sampler process died \(exit code -6\)"):  # dead or dying
            sampler.sample(["streams-isolated-test"], seconds=False)
        after = sampler.sample(["streams-isolated-test"], seconds=False)
        assert [g.group for g in after] == ["streams-isolated-test"]
        assert sampler.started == before_kills + 1
        assert sampler.pid != pid
    finally:
        sampler.close()
    assert sampler.pid is None


def test_a_sample_that_fails_retires_its_child_so_the_next_one_has_new_clients() -> None:
    """A broker that is not there: the sample fails in one clear line, and its child (whose clients may stay stuck
    after the broker comes back) is gone; the next sample starts a new one."""
    sampler = IsolatedSampler(KafkaConnection(f"127.0.0.1:{free_port()}"))
    try:
        with pytest.raises(TransientError, match="cannot sample consumer lag"):
            sampler.sample(["any"], seconds=False)
        assert sampler.pid is None
        assert sampler.started == 1
    finally:
        sampler.close()
