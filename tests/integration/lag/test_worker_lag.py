"""A worker's lag monitor: GET /api/lag and the Prometheus gauges agree with what was produced and committed."""

from __future__ import annotations

import pytest

from tests.integration.harness import metric
from tests.integration.lag.conftest import LaggingStack

pytestmark = pytest.mark.integration


def test_api_lag_reports_the_stopped_group_per_partition(lagging: LaggingStack) -> None:
    body = lagging.lag_api()
    group = lagging.stopped_group(body)
    assert (group["state"], group["members"], group["status"], group["total_lag"]) == ("EMPTY", [], "STOPPED", 20)
    rows = {p["partition"]: (p["committed"], p["log_end"], p["lag"], p["status"]) for p in group["partitions"]}
    assert rows == {0: (10, 30, 20, "STOPPED"), 1: (20, 20, 0, "OK")}
    assert group["partitions"][0]["lag_seconds"] > 0
    assert group["throughput"] == {"consumed_per_s": 0.0, "produced_per_s": 0.0}
    own = [g for g in body["groups"] if g["group"] == lagging.env["STREAMS_APP_ID"]]
    assert own, "the worker's own group is watched too"
    key = f"{lagging.group}|{lagging.topic}|0"
    assert [point["lag"][key] for point in body["history"] if key in point["lag"]][-1] == 20
    dlq = f"{lagging.env['STREAMS_TOPIC_PREFIX']}orders.dlq"
    assert {"topic": dlq, "reason": "BadMagicByteError", "count": 1} in body["dead_letters"]
    assert body["error"] is None


def test_metrics_export_the_same_lag(lagging: LaggingStack) -> None:
    text = lagging.worker.get("/metrics").text
    labels = {"group": lagging.group, "topic": lagging.topic}
    assert metric(text, "streams_consumer_lag_messages", partition="0", **labels) == 20
    assert metric(text, "streams_consumer_lag_messages", partition="1", **labels) == 0
    assert metric(text, "streams_consumer_committed_offset", partition="0", **labels) == 10
    assert metric(text, "streams_consumer_log_end_offset", partition="0", **labels) == 30
    assert metric(text, "streams_consumer_partition_status", partition="0", **labels) == 4  # STOPPED
    assert metric(text, "streams_consumer_group_status", group=lagging.group) == 4
    assert metric(text, "streams_consumer_lag_seconds", partition="0", **labels) > 0
