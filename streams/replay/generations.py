"""A read model's tables across a rebuild, in a worker: which table is written, which serves each partition.

``declare_generations`` reads the rebuild plans (``streams.replay.rebuilds``)
when the app is built and declares, for each read model, its current table and,
while a rebuild is unfinished, the table being built.  ``Generational`` then
answers the agent (write ``table``; is this record ``replaying`` an offset the
old generation already has?) and the views (which table ``serving`` a key's
partition).  A partition switches to the new generation once the record just
below its switch offset is applied, or at assignment when the group's
committed offset is already past it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from streams.replay.offsets import GroupOffsets
from streams.replay.rebuilds import RebuildLog, table_name
from streams.settings import Settings

__all__ = ["Generational", "declare_generations", "rebuilding_topics"]


class Generational:
    def __init__(self, name: str, topic: str, *, current: Any, generation: int, partitions: int,
                 building: Any | None = None, switch: Mapping[int, int] | None = None) -> None:
        self.name = name
        self.topic = topic
        self.current = current
        self.building = building
        self.generation = generation  # of the newest table
        self._switch = dict(switch or {})
        self._switched = {p for p in range(partitions) if self._switch.get(p, 0) <= 0}

    @property
    def table(self) -> Any:
        """The table the agent reads before applying and writes to: the newest generation."""
        return self.building if self.building is not None else self.current

    def switched(self, partition: int) -> bool:
        return self.building is None or partition in self._switched

    def serving(self, partition: int) -> Any:
        """The table that answers reads of keys in ``partition``: the old one until the new one caught up."""
        return self.table if self.switched(partition) else self.current

    def replaying(self, partition: int, offset: int) -> bool:
        """True for a record the old generation already has: rebuild only, no side effects."""
        return not self.switched(partition) and offset < self._switch.get(partition, 0)

    def applied(self, partition: int, offset: int) -> None:
        if not self.switched(partition) and offset >= self._switch.get(partition, 0) - 1:
            self._switched.add(partition)

    def seed(self, partition: int, committed: int) -> None:
        """At assignment: the group's committed offset says how far this partition was applied."""
        if not self.switched(partition) and committed >= self._switch.get(partition, 0):
            self._switched.add(partition)

    def pending(self) -> int:
        """Partitions still served by the old generation."""
        return 0 if self.building is None else sum(1 for p in self._switch if p not in self._switched)

    def meta(self, partition: int) -> dict[str, Any]:
        switched = self.switched(partition)
        return {"generation": self.generation if switched else self.generation - 1, "rebuilding": not switched}


def declare_generations(settings: Settings, group: str, read_models: Mapping[str, str],
                        make_table: Callable[[str, str], Any]) -> dict[str, Generational]:
    """``read_models``: name -> source topic; ``make_table(table name, read model)`` declares a Faust table.
    A read model being built is said to the app's recovery by the caller (``rebuilding_topics``)."""
    plans = RebuildLog(settings).latest(group)
    offsets = GroupOffsets(settings.kafka) if plans else None
    result = {}
    for name, topic in read_models.items():
        plan = plans.get(name)
        n = settings.topic_partitions
        if plan is None:
            result[name] = Generational(name, topic, current=make_table(name, name), generation=0, partitions=n)
            continue
        assert offsets is not None
        committed = offsets.committed(group, [(plan.topic, p) for p in plan.switch])
        pending = plan.pending({p: committed.get((plan.topic, p)) for p in plan.switch})
        newest = make_table(table_name(name, plan.generation), name)
        if not pending:
            result[name] = Generational(name, topic, current=newest, generation=plan.generation, partitions=n)
        else:
            result[name] = Generational(name, topic, current=make_table(table_name(name, plan.generation - 1), name),
                                        building=newest, generation=plan.generation, partitions=n,
                                        switch=plan.switch)
    return result


def rebuilding_topics(generations: Mapping[str, Generational]) -> set[str]:
    """Source topics a rebuild is replaying: they resume at the group's committed offset, judged again."""
    return {model.topic for model in generations.values() if model.building is not None}
