import json

import pytest

from streams.replay import Generational, RebuildPlan, table_name

SWITCH = {0: 10, 1: 0, 2: 5}


def plain() -> tuple[Generational, dict[str, int]]:
    current: dict[str, int] = {}
    return Generational("orders", "orders-events", current=current, generation=0, partitions=3), current


def rebuilding() -> tuple[Generational, dict[str, int], dict[str, int]]:
    old: dict[str, int] = {"old": 1}
    new: dict[str, int] = {"new": 2}
    return (Generational("orders", "orders-events", current=old, building=new, generation=2, partitions=3,
                         switch=SWITCH), old, new)


def test_without_building_everything_is_the_current_table() -> None:
    gen, current = plain()
    assert gen.table is current
    for p in range(3):
        assert gen.switched(p)
        assert gen.serving(p) is current
        assert not gen.replaying(p, 0)
        assert not gen.replaying(p, 10**9)
        assert gen.meta(p) == {"generation": 0, "rebuilding": False}
        gen.applied(p, 0)
        gen.seed(p, 0)
    assert gen.pending() == 0


def test_without_building_a_switch_map_changes_nothing() -> None:
    current: dict[str, int] = {}
    gen = Generational("orders", "t", current=current, generation=3, partitions=3, switch=SWITCH)
    assert gen.pending() == 0
    assert gen.serving(0) is current
    assert not gen.replaying(0, 0)
    assert gen.meta(0) == {"generation": 3, "rebuilding": False}


def test_the_agent_always_writes_the_newest_generation() -> None:
    gen, _old, new = rebuilding()
    assert gen.table is new
    gen.applied(0, 9)
    assert gen.table is new


def test_a_partition_with_switch_zero_is_switched_from_the_start() -> None:
    gen, _old, new = rebuilding()
    assert gen.switched(1)
    assert gen.serving(1) is new
    assert not gen.replaying(1, 0)
    assert gen.meta(1) == {"generation": 2, "rebuilding": False}


def test_a_partition_switches_once_the_record_below_its_switch_offset_is_applied() -> None:
    gen, old, new = rebuilding()
    assert gen.serving(0) is old
    gen.applied(0, 8)
    assert gen.serving(0) is old
    assert not gen.switched(0)
    gen.applied(0, 9)
    assert gen.switched(0)
    assert gen.serving(0) is new
    assert gen.serving(2) is old  # the others are untouched


def test_an_offset_past_the_switch_also_switches() -> None:
    """Offsets have gaps (transaction markers, compaction): the record at switch-1 may never arrive."""
    gen, _old, new = rebuilding()
    gen.applied(0, 11)
    assert gen.serving(0) is new


def test_replaying_is_below_the_switch_offset_until_switched() -> None:
    gen, _old, _new = rebuilding()
    assert gen.replaying(0, 0)
    assert gen.replaying(0, 9)
    assert not gen.replaying(0, 10)
    assert not gen.replaying(0, 11)
    gen.applied(0, 9)
    assert not gen.replaying(0, 9)
    assert not gen.replaying(0, 0)


def test_seed_switches_when_the_committed_offset_reached_the_switch() -> None:
    gen, old, new = rebuilding()
    gen.seed(2, 4)
    assert gen.serving(2) is old
    assert gen.replaying(2, 4)
    gen.seed(2, 5)
    assert gen.serving(2) is new
    assert not gen.replaying(2, 4)
    gen.seed(2, 0)  # never switches back
    assert gen.serving(2) is new


def test_seed_past_the_switch() -> None:
    gen, _old, new = rebuilding()
    gen.seed(0, 1000)
    assert gen.serving(0) is new


def test_pending_counts_partitions_still_on_the_old_generation() -> None:
    gen, _old, _new = rebuilding()
    assert gen.pending() == 2
    gen.applied(0, 8)
    assert gen.pending() == 2
    gen.applied(0, 9)
    assert gen.pending() == 1
    gen.applied(0, 9)  # idempotent
    assert gen.pending() == 1
    gen.seed(2, 5)
    assert gen.pending() == 0


def test_meta_tells_which_generation_answered() -> None:
    gen, _old, _new = rebuilding()
    assert gen.meta(0) == {"generation": 1, "rebuilding": True}
    assert gen.meta(2) == {"generation": 1, "rebuilding": True}
    gen.applied(0, 9)
    assert gen.meta(0) == {"generation": 2, "rebuilding": False}
    assert gen.meta(2) == {"generation": 1, "rebuilding": True}


def test_a_partition_without_a_switch_entry_is_switched() -> None:
    gen = Generational("o", "t", current={}, building={}, generation=1, partitions=4, switch={0: 3})
    assert gen.switched(3)
    assert gen.pending() == 1


# RebuildPlan


def rebuild_plan(switch: dict[int, int]) -> RebuildPlan:
    return RebuildPlan(group="app", read_model="orders", generation=2, topic="orders-events", switch=switch,
                       id="id-1", requested_at="2026-01-01T00:00:00+00:00", by="tester")


@pytest.mark.parametrize(("switch", "committed", "expected"), [
    ({0: 10, 1: 0, 2: 5}, {0: 3, 1: None, 2: 5}, [0]),
    ({0: 10, 1: 0, 2: 5}, {0: 10, 1: 0, 2: 5}, []),
    ({0: 10, 1: 0, 2: 5}, {0: None, 1: None, 2: None}, [0, 2]),   # None: nothing committed, as 0
    ({0: 10, 1: 0, 2: 5}, {}, [0, 2]),                           # missing: as None
    ({0: 10, 1: 0}, {0: 11}, []),                                # past the switch
    ({0: 0, 1: 0}, {}, []),                                      # switch 0 is never pending
    ({2: 7, 0: 7, 1: 7}, {1: 6}, [0, 1, 2]),                     # sorted
])
def test_rebuild_plan_pending(switch: dict[int, int], committed: dict[int, int | None],
                              expected: list[int]) -> None:
    assert rebuild_plan(switch).pending(committed) == expected


def test_rebuild_plan_agrees_with_generational_seed() -> None:
    """The CLI (pending) and the worker (seed) must agree on when a partition has caught up."""
    rebuild = rebuild_plan(SWITCH)
    for committed in range(12):
        gen, _old, _new = rebuilding()
        for p in SWITCH:
            gen.seed(p, committed)
        assert gen.pending() == len(rebuild.pending(dict.fromkeys(SWITCH, committed)))


def test_rebuild_plan_json_round_trip() -> None:
    original = rebuild_plan({0: 10, 1: 0, 12: 5})
    body = json.loads(json.dumps(original.to_json()))
    assert body["switch"] == {"0": 10, "1": 0, "12": 5}
    assert original.key == "app/orders"
    back = RebuildPlan.from_json(body)
    assert back == original
    assert back.switch == {0: 10, 1: 0, 12: 5}
    assert all(isinstance(p, int) for p in back.switch)


def test_rebuild_plan_defaults_are_filled_and_unique() -> None:
    a = RebuildPlan(group="g", read_model="r", generation=1, topic="t", switch={}, by="me")
    b = RebuildPlan(group="g", read_model="r", generation=1, topic="t", switch={}, by="me")
    assert a.id != b.id
    assert a.requested_at.endswith("+00:00")


def test_rebuild_plan_from_json_rejects_missing_fields() -> None:
    body = rebuild_plan({0: 1}).to_json()
    del body["switch"]
    with pytest.raises(KeyError):
        RebuildPlan.from_json(body)


@pytest.mark.parametrize(("generation", "expected"), [
    (0, "orders"),
    (1, "orders-g1"),
    (2, "orders-g2"),
])
def test_table_name(generation: int, expected: str) -> None:
    assert table_name("orders", generation) == expected
