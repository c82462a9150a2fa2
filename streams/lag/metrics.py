"""Lag as Prometheus gauges, with label sets refreshed on every sample (none left stale)."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Gauge

from streams.lag.model import GroupLag

__all__ = ["LagGauges"]

_LABELS = ["group", "topic", "partition"]


class LagGauges:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.lag = Gauge("streams_consumer_lag_messages", "Records not yet consumed", _LABELS, registry=registry)
        self.lag_seconds = Gauge("streams_consumer_lag_seconds",
                                 "Age of the oldest unconsumed record (its timestamp, read directly)",
                                 _LABELS, registry=registry)
        self.committed = Gauge("streams_consumer_committed_offset", "Committed offset", _LABELS,
                               registry=registry)
        self.log_end = Gauge("streams_consumer_log_end_offset", "Log-end offset", _LABELS, registry=registry)
        self.status = Gauge("streams_consumer_partition_status",
                            "Burrow status: 0 OK, 1 WARNING, 2 REWIND, 3 STALLED, 4 STOPPED", _LABELS,
                            registry=registry)
        self.group_status = Gauge("streams_consumer_group_status", "Worst partition status of the group",
                                  ["group"], registry=registry)
        self.group_members = Gauge("streams_consumer_group_members", "Active members", ["group"],
                                   registry=registry)
        self._per_partition = (self.lag, self.lag_seconds, self.committed, self.log_end, self.status)
        self._partition_labels: set[tuple[str, str, str]] = set()
        self._group_labels: set[str] = set()

    def update(self, groups: Iterable[GroupLag]) -> None:
        """Set every series of this sample, then remove those of partitions and groups no longer in it.

        Set first, remove after: a scrape in between sees the old or the new value, never a gap.
        """
        groups = list(groups)
        partition_labels = {(p.group, p.topic, str(p.partition)) for g in groups for p in g.partitions}
        group_labels = {g.group for g in groups}
        for group in groups:
            self.group_status.labels(group.group).set(int(group.status))
            self.group_members.labels(group.group).set(len(group.members))
            for p in group.partitions:
                labels = (p.group, p.topic, str(p.partition))
                self.lag.labels(*labels).set(p.lag)
                self.lag_seconds.labels(*labels).set(p.lag_seconds)
                self.committed.labels(*labels).set(p.committed if p.committed is not None else -1)
                self.log_end.labels(*labels).set(p.log_end)
                self.status.labels(*labels).set(int(p.status))
        for labels in self._partition_labels - partition_labels:  # moved away in a rebalance, or gone
            for gauge in self._per_partition:
                gauge.remove(*labels)
        for name in self._group_labels - group_labels:
            self.group_status.remove(name)
            self.group_members.remove(name)
        self._partition_labels, self._group_labels = partition_labels, group_labels
