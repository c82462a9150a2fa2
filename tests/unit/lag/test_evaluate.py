import pytest
from prometheus_client import CollectorRegistry

from streams.lag import Evaluator, GroupLag, PartitionLag, Status, evaluate_window
from streams.lag.metrics import LagGauges


def window(*points: tuple[int, int]) -> list[PartitionLag]:
    """(committed, log_end) per sample, oldest first."""
    return [PartitionLag(group="g", topic="t", partition=0, committed=c, log_end=e, lag=e - c, lag_seconds=0.0,
                         sampled_at=float(i)) for i, (c, e) in enumerate(points)]


@pytest.mark.parametrize(("points", "active", "expected"), [
    ([(10, 10), (20, 20), (30, 30)], True, Status.OK),          # keeping up
    ([(10, 15), (20, 30), (30, 50)], True, Status.WARNING),     # moving, but lag grows every time
    ([(10, 15), (12, 14), (20, 40)], True, Status.OK),          # lag went down once: not a trend
    ([(10, 20), (10, 25), (10, 30)], True, Status.STALLED),     # members, offset stuck, lag > 0
    ([(10, 20), (10, 20), (10, 30)], False, Status.STOPPED),    # no members, offset stuck, lag > 0
    ([(50, 60), (0, 60), (5, 60)], True, Status.REWIND),        # offset went backwards (a replay)
    ([(10, 10), (10, 10), (10, 10)], False, Status.OK),         # idle and caught up
    ([(10, 20)], True, Status.OK),                              # one sample is not a window
])
def test_burrow_rules(points: list[tuple[int, int]], active: bool, expected: Status) -> None:
    assert evaluate_window(window(*points), group_active=active) is expected


def test_evaluator_keeps_a_window_and_forgets_partitions_that_left() -> None:
    evaluator = Evaluator(size=3)
    for committed in (10, 10, 10):
        group = GroupLag(group="g", state="STABLE", members=["m"],
                         partitions=window((committed, 100)))
        evaluator.observe([group])
    assert group.status is Status.STALLED
    evaluator.observe([GroupLag(group="g", state="STABLE", members=["m"], partitions=[])])
    fresh = GroupLag(group="g", state="STABLE", members=["m"], partitions=window((10, 100)))
    evaluator.observe([fresh])
    assert fresh.status is Status.OK  # old window forgotten


def test_gauges_drop_labels_of_partitions_that_moved() -> None:
    registry = CollectorRegistry()
    gauges = LagGauges(registry)
    gauges.update([GroupLag(group="g", state="STABLE", members=["m"], partitions=window((1, 5)))])
    assert registry.get_sample_value("streams_consumer_lag_messages", {"group": "g", "topic": "t",
                                                                        "partition": "0"}) == 4
    moved = window((1, 9))[0]
    moved.partition = 3
    gauges.update([GroupLag(group="g", state="STABLE", members=["m"], partitions=[moved])])
    assert registry.get_sample_value("streams_consumer_lag_messages",
                                     {"group": "g", "topic": "t", "partition": "0"}) is None
    assert registry.get_sample_value("streams_consumer_lag_messages",
                                     {"group": "g", "topic": "t", "partition": "3"}) == 8
