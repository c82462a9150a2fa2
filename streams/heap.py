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
"""

from __future__ import annotations

import gc

__all__ = ["settle"]


def settle() -> None:
    """Collect everything collectable now, then exempt the survivors from later collections."""
    gc.collect()
    gc.freeze()
