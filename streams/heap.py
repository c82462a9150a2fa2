"""Keeping CPython's garbage collector off the objects a worker keeps for its whole life.

A running worker holds over a hundred thousand objects that live as long as
it does: modules, Faust's services and topics, parsed schemas, the agents'
closures.  Every full collection scans them all and frees none of them;
measured under load here, one took 100 to 180 ms and came every 2 to 3
seconds, about 7% of the event loop's time.  ``settle()`` collects once and
then freezes whatever survived (``gc.freeze``): later full collections scan
only objects created after it.  Objects frozen this way are still freed by
reference counting when they die; only cycles among them wait until the
process ends, and the collection just before freezing has already freed the
cycles there were.

``streams worker`` settles the heap once the app is built, before the worker
starts: until then every full collection while it started scanned the modules
and the app (nine in a row, 100 to 140 ms each, freeing almost nothing), and a
start took 0.85 s more CPU (2.67 s against 1.82 to ready, medians of four
alternating pairs, ``bench.startup``, 2026-12-03).  The app settles it again
once recovery after each rebalance is complete (``streams.app``), when the rest
of the worker's long-lived objects exist.

Full collections still scan everything made since: while a backlog is worked
through, that is what is on its way (fetched records, events in the agents'
queues, records awaiting delivery), and each took 18 to 47 ms, several a
second (``gc.callbacks``, 2026-12-03).  An HTTP read that meets one waits it
out.  So ``settle`` also spaces full collections out: one after ``FULL_AFTER``
collections of the middle generation, not CPython's 10.  GET's p99 during a
backlog went from 17.6 to 25.1 ms to 11.0 to 16.7 (``bench.protocol_cost
--gets``, six alternating pairs, every one lower; ``docs/benchmarks.md``).

And young collections: CPython makes one every 700 container allocations, and
an event's own objects (its message, record, ticket, outputs) live until it is
acknowledged, once its records are delivered, so every young collection scanned
the events in flight and moved them on to be scanned again.  After ``YOUNG``
allocations most of them are gone, freed by reference counting: the worker's
CPU per event went down by about a tenth (median 0.92 of ten alternating
pairs, eight lower; ``docs/benchmarks.md``).

Cycles wait longer to be freed; reference counting frees the rest at once, as
before.
"""

from __future__ import annotations

import gc

__all__ = ["FULL_AFTER", "YOUNG", "settle"]

YOUNG = 10_000
"""Container allocations (less deallocations) between two young collections (CPython's default: 700)."""

FULL_AFTER = 100
"""Collections of the middle generation between two full ones (CPython's default: 10)."""


def settle() -> None:
    """Collect everything collectable now, exempt the survivors from later collections, space the next ones out
    (the middle generation's threshold is CPython's)."""
    gc.collect()
    gc.freeze()
    _, middle, _ = gc.get_threshold()
    gc.set_threshold(YOUNG, middle, FULL_AFTER)
