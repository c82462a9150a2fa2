"""Everything in the project that reaches into faust-streaming's internals, and nothing else.

Each module here copies or overrides a function of faust-streaming (or mode, or
aiokafka) as of the versions pinned in ``pins``; ``tests/unit/recordpath/faust_internals/test_pins.py``
fails on any other version, naming the functions to re-check.

* ``drain``: the consumer's drain loop, without four tasks per record;
* ``committed``: the consumer reads committed records only (Faust reads uncommitted outside exactly-once);
* ``resume``: the streams held at the end of recovery until Faust emptied its queues;
* ``changelog``: tables whose changelog goes through the outbox, stamped with the source position;
* ``stores``: their RocksDB stores, written without the write-ahead log and flushed when they stop;
* ``recovery``: a table partition restored to exactly what its source's resume point covers;
* ``app``: the app's hooks (transport, sensors, rebalance signals, recovery): ``FaustHooks``;
* ``web``: the web server's runner, replaced so that unparseable requests get JSON errors;
* ``leave``: a static group member that stops cleanly leaves the group (aiokafka's coordinator, patched);
* ``producer``: Faust's own producer is idempotent (it is only in Faust's exactly-once mode);
* ``transactions``: in exactly-once mode, Faust's commit goes into the outbox's transaction;
* ``restore``: a changelog that ends in a commit marker or aborted records is restored to its end;
* ``take``: agents take their events from the channel's queue a batch at a time, not through Faust's iterator.
"""

from streams.recordpath.faust_internals.app import FaustHooks
from streams.recordpath.faust_internals.changelog import ROCKSDB_DEFAULTS, OutboxTable
from streams.recordpath.faust_internals.drain import LeanConsumer, LeanTransport
from streams.recordpath.faust_internals.leave import leave_on_clean_stop
from streams.recordpath.faust_internals.restore import MarkerAwareTableManager
from streams.recordpath.faust_internals.resume import hold_streams
from streams.recordpath.faust_internals.take import events
from streams.recordpath.faust_internals.web import serve_protocol_errors_as_json

__all__ = ["ROCKSDB_DEFAULTS", "FaustHooks", "LeanConsumer", "LeanTransport", "MarkerAwareTableManager", "OutboxTable",
           "events", "hold_streams", "leave_on_clean_stop", "serve_protocol_errors_as_json"]
