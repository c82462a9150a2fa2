"""How a worker belongs to its consumer group: its static instance id and its heartbeat.

Without a static id, a worker killed with SIGKILL stays a member until the group's session timeout expires (it
never said goodbye); restarted before that, it joins as a new member, and the group still waits for the dead one
before it can hand anything out: its partitions stand still for the whole session timeout either way.  With a
static id (KIP-345, ``group.instance.id``), the restarted worker is recognised as the member it was and takes its
partitions back as soon as it joins; the others keep theirs.

The id must survive a restart and differ between workers, so by default it is made on a worker's first start and
kept in its data dir, which is per worker and outlives the process (its RocksDB stores live there too).  A copy
of a data dir copies the id: two workers with one id fence each other, so delete ``INSTANCE_ID_FILE`` in a copy.

A worker that stops cleanly still leaves the group, as without a static id
(``streams.recordpath.faust_internals.leave``: aiokafka sends no LeaveGroup for a static member).  A stop for a
quick restart then moves partitions twice, as it always did; what static membership speeds up is the return of a
worker that died.
"""

from __future__ import annotations

import os
import re
import secrets

from streams.settings import Settings

__all__ = ["INSTANCE_ID_FILE", "heartbeat_interval_s", "instance_id"]

INSTANCE_ID_FILE = "group-instance-id"
_LEGAL = re.compile(r"^[A-Za-z0-9._-]{1,249}$")  # Kafka's rule for group.instance.id


def instance_id(settings: Settings, app_id: str | None = None) -> str | None:
    """The worker's static membership id: ``STREAMS_INSTANCE_ID``, else the one kept in the data dir (made now,
    ``<app id>-<8 hex>``, if there is none yet); ``None`` when the setting is empty (dynamic membership).

    The kept id goes with the address the worker serves HTTP on: a worker restarted on another address gets a new
    id.  A static member that comes back to a stable group is handed its assignment without a rebalance, and so
    without the other workers learning its new address (the assignor's metadata): they would route reads of its
    keys to the old one until the next rebalance.
    """
    if settings.instance_id is not None:
        return settings.instance_id or None
    path = settings.data_dir.resolve() / INSTANCE_ID_FILE
    address = f"{settings.web_host}:{settings.web_port}"
    try:
        kept = path.read_text().split()
    except FileNotFoundError:
        kept = []
    if len(kept) == 2 and _LEGAL.match(kept[0]) and kept[1] == address:
        return kept[0]
    made = f"{re.sub(r'[^A-Za-z0-9._-]', '-', app_id or settings.app_id)[:200]}-{secrets.token_hex(4)}"
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{INSTANCE_ID_FILE}.{os.getpid()}")
    partial.write_text(f"{made}\n{address}\n")
    partial.replace(path)  # atomic: a worker killed while writing leaves no half id behind
    return made


def heartbeat_interval_s(settings: Settings) -> float:
    """``STREAMS_HEARTBEAT_INTERVAL_S``, else a third of the session timeout (the Kafka client's own ratio), at most
    3 s: a worker that died is noticed by its missing heartbeats, several of which fit in a session timeout."""
    if settings.heartbeat_interval_s is not None:
        return settings.heartbeat_interval_s
    return min(settings.session_timeout_s / 3, 3.0)
