"""The record path: how one consumed record becomes state, outputs and a committed offset.

Read ``protocol`` first: the commit protocol, its steps in order and what each
guarantees.  Then, in the order a record meets them:

* ``agent``: a Faust agent around the processing loop (``guarded_agent``), and the
  ticket and resume check every agent opens per event;
* ``processing``: one record with retries, the breaker, dead letters and parking;
* ``outbox``: every record an agent writes, produced through one librdkafka producer,
  counted on the event's ticket; ``batching``: repartition records of many items;
* ``acks``: acknowledgements in offset order per partition;
* ``inbox``: the reading end of repartition topics, each item applied once;
* ``records``: a consumed record as plain data;
* ``faust_internals``: everything that reaches into faust-streaming (drain loop,
  changelog tables, recovery, the hold at the end of recovery).

``agent``, ``inbox`` and ``processing`` import the app or the dead-letter
package, which import the leaves exported here: import them by module path.
"""

from streams.recordpath.acks import InOrderAcks
from streams.recordpath.outbox import Outbox, OutboxError, Ticket, TicketScope
from streams.recordpath.protocol import Positions, format_source, parse_source
from streams.recordpath.records import RawRecord

__all__ = [
    "InOrderAcks", "Outbox", "OutboxError", "Positions", "RawRecord", "Ticket", "TicketScope", "format_source",
    "parse_source",
]
