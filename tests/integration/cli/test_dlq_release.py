"""``streams dlq release`` of a key nothing is parked under: says so, exits 1, sends and audits nothing.
(Releasing a key that is parked: tests/integration/orders/test_redrive.py.)"""

from __future__ import annotations

import uuid

import pytest

from streams.connection import KafkaConnection
from streams.recordpath.agent import control_topic
from streams.scan import scan
from tests.integration.harness import streams_cli

pytestmark = pytest.mark.integration


def test_releasing_a_key_never_parked_is_an_error_and_audits_nothing(stack_env: dict[str, str]) -> None:
    key = f"never-parked-{uuid.uuid4().hex[:6]}"
    orders = f"{stack_env['STREAMS_TOPIC_PREFIX']}orders"
    result = streams_cli(stack_env, "dlq", "release", "--key", key)
    assert result.returncode == 1, result.stdout
    assert "released" not in result.stdout
    assert result.stderr.splitlines() == [
        f"streams: error: nothing is parked under key {key!r} of {orders} "
        "(`streams dlq list` shows the parked keys)"]
    history = streams_cli(stack_env, "dlq", "history", "--json")
    assert history.returncode == 0, history.stderr
    assert history.stdout == ""
    bootstrap = stack_env["STREAMS_BROKER"].removeprefix("kafka://")
    assert list(scan(KafkaConnection(bootstrap), control_topic(orders), missing_ok=True)) == []
