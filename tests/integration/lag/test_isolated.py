"""``IsolatedSampler``: a sampler child that dies (librdkafka's abort, simulated with SIGABRT) fails one sample
with a clear error; the next sample starts a new child and works.  The worker itself never sees the abort."""

from __future__ import annotations

import os
import signal

import pytest

from streams.devstack.kafka import KafkaBroker
from streams.errors import TransientError
from streams.lag.isolated import IsolatedSampler

pytestmark = pytest.mark.integration


def test_a_dead_sampler_child_fails_one_sample_and_the_next_one_starts_a_new_child(
        kafka_broker: KafkaBroker) -> None:
    sampler = IsolatedSampler(kafka_broker.bootstrap_servers)
    try:
        before = sampler.sample(["streams-isolated-test"], seconds=False)
        assert [g.group for g in before] == ["streams-isolated-test"]
        pid = sampler.pid
        assert pid is not None
        assert pid != os.getpid()
        os.kill(pid, signal.SIGABRT)  # what librdkafka's failed assertion does to its process
        with pytest.raises(TransientError, match=r"lag sampler process died \(exit code -6\)"):
            sampler.sample(["streams-isolated-test"], seconds=False)
        after = sampler.sample(["streams-isolated-test"], seconds=False)
        assert [g.group for g in after] == ["streams-isolated-test"]
        assert sampler.started == 2
        assert sampler.pid != pid
    finally:
        sampler.close()
    assert sampler.pid is None
