"""The app's hooks into faust-streaming: its transport, its sensors, its rebalance signals and recovery.

``FaustHooks`` is the base of ``streams.app.StreamsApp``: a ``faust.App`` with

* the aiokafka transport whose consumer has the lean drain loop (``drain``);
* Faust's Monitor left out as a sensor: it keeps per-event statistics for Faust's
  /stats pages, which this app does not serve; 2 to 3.5% of the CPU per event,
  side by side (2026-12-02);
* ``recovery``, the ``StateRecovery`` of its tables, fed with what it needs from
  Faust's assignor and consumer, and told of revoked partitions;
* the streams held at the end of each recovery (``resume.hold_streams``).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import faust

from streams.recordpath.faust_internals.drain import LeanTransport
from streams.recordpath.faust_internals.recovery import Committed, StateRecovery
from streams.recordpath.faust_internals.resume import hold_streams
from streams.recordpath.protocol import Positions

__all__ = ["FaustHooks"]


class FaustHooks(faust.App):
    def __init__(self, id: str, *, positions: Positions, committed: Committed, **kwargs: Any) -> None:
        """``committed(tps)``: the group's committed offsets, blocking (the app's admin client)."""
        super().__init__(id, **kwargs)
        self.recovery = StateRecovery(
            state_file=Path(self.conf.tabledir) / "recovery.json", positions=positions, committed=committed,
            actives=lambda: set(self.assignor.assigned_actives()), streams=self._stream_partitions,
            generation=lambda: int(self.consumer_generation_id),
        )
        # mode types bare Signal handlers oddly, hence the ignores
        self.on_partitions_revoked.connect(_revoked)  # type: ignore[arg-type]
        self.on_rebalance_complete.connect(hold_streams)  # type: ignore[arg-type]

    def on_init_dependencies(self) -> Iterable[Any]:
        """Faust's, without its Monitor as a sensor (lag and processing metrics are the app's own)."""
        dependencies = super().on_init_dependencies()
        self.sensors.remove(self.monitor)
        return dependencies

    def _new_transport(self) -> Any:
        """Faust's aiokafka transport, with the drain loop of ``drain``."""
        url = self.conf.broker_consumer[0]
        if url.scheme in ("kafka", "aiokafka"):
            return LeanTransport(self.conf.broker_consumer, self)
        return super()._new_transport()

    def _stream_partitions(self) -> set[Any]:
        """The assigned partitions that are not table changelogs."""
        changelogs = self.tables.changelog_topics
        return {tp for tp in self.consumer.assignment() if tp.topic not in changelogs}


async def _revoked(sender: Any, revoked: Any, **kwargs: Any) -> None:
    """Partitions given up: their local stores go stale here (``StateRecovery.revoked``)."""
    sender.recovery.revoked(revoked, set(sender.tables.changelog_topics))
