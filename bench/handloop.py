"""The ceiling: the read-models workload as a hand-written confluent-kafka + fastavro + rocksdict loop.

    python -m bench.handloop --bootstrap HOST:PORT --registry URL --topic PREFIX.orders --group G --state DIR

Run by ``bench.baselines`` as a process of its own (its CPU time and memory are the app's).  Batches of up to
``BATCH`` records from ``orders`` and the three repartition topics it feeds itself (``<group>-customers``,
``-inventory``, ``-stats``: the deltas keyed by the read model's key, as our worker sends them): each order
decoded and projected with our pure functions (``bench.baseline_domain``), each delta applied to its read model;
state read once per key per batch and kept in memory for the batch, written back in one rocksdict write batch;
one changelog record per changed key per batch (``<group>-<table>-changelog``, compacted, JSON key and value as
Faust writes them, so that ``streams.tables`` reads them back); the producer flushed (acks=all, idempotent) and
only then the batch's offsets committed.

What it leaves out, which our worker does: validation, dead letters, parking and retries, HTTP reads, metrics,
tracing, and giving each delta to its read model once after a crash (a crash between the flush and the commit
applies that batch's deltas again; the check at the end of a bench run has no crash to see it).
"""

from __future__ import annotations

import argparse
import signal
from pathlib import Path
from typing import Any

import orjson
from confluent_kafka import Consumer, KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic
from rocksdict import Options, Rdict, WriteBatch

from bench.baseline_domain import STATS_KEY, Decoder, Position, apply_customer, apply_order, apply_sku, apply_stats

BATCH = 500
TABLES = ("orders", "customers", "inventory", "stats")
APPLY = {"customers": apply_customer, "inventory": apply_sku, "stats": apply_stats}


class BatchState:
    """The rows one batch reads (each read from the store once) and writes (each written back once)."""

    def __init__(self, db: Rdict) -> None:
        self.db = db
        self.rows: dict[tuple[str, str], Any] = {}
        self.changed: set[tuple[str, str]] = set()

    def get(self, table: str, key: str) -> Any:
        if (table, key) not in self.rows:
            raw = self.db.get(f"{table}\x00{key}".encode())
            self.rows[table, key] = None if raw is None else orjson.loads(raw)
        return self.rows[table, key]

    def put(self, table: str, key: str, view: Any) -> None:
        self.rows[table, key] = view
        self.changed.add((table, key))


def main() -> None:
    parser = argparse.ArgumentParser()
    for name in ("--bootstrap", "--registry", "--topic", "--group", "--state"):
        parser.add_argument(name, required=True)
    parser.add_argument("--partitions", type=int, default=4)
    args = parser.parse_args()
    group, n = args.group, args.partitions
    repartition = {table: f"{group}-{table}" for table in APPLY}
    admin = AdminClient({"bootstrap.servers": args.bootstrap})
    wanted = [NewTopic(topic, n, 1) for topic in repartition.values()] + [
        NewTopic(f"{group}-{table}-changelog", n, 1, config={"cleanup.policy": "compact"}) for table in TABLES]
    for future in admin.create_topics(wanted).values():
        try:
            future.result(30)
        except KafkaException as exc:
            if "TOPIC_ALREADY_EXISTS" not in str(exc):
                raise
    consumer = Consumer({"bootstrap.servers": args.bootstrap, "group.id": group, "auto.offset.reset": "earliest",
                         "enable.auto.commit": False, "isolation.level": "read_committed"})
    producer = Producer({"bootstrap.servers": args.bootstrap, "acks": "all", "enable.idempotence": True,
                         "linger.ms": 5})
    failed: list[Any] = []

    def delivered(err: Any, _msg: Any) -> None:
        if err is not None:
            failed.append(err)

    db = Rdict(str(Path(args.state)), Options(raw_mode=True))
    decoder = Decoder(args.registry)
    table_of = {topic: table for table, topic in repartition.items()}
    stopping = False

    def stop(*_: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    consumer.subscribe([args.topic, *repartition.values()])
    try:
        while not stopping:
            batch = consumer.consume(BATCH, 0.5)
            if not batch:
                continue
            state = BatchState(db)
            get, put = state.get, state.put
            for msg in batch:
                if msg.error() is not None:
                    raise KafkaException(msg.error())
                topic = msg.topic()
                if topic == args.topic:
                    position = Position(topic, msg.partition(), msg.offset())
                    event, meta = decoder.decode(msg.value(), msg.headers(), position)
                    outcome = apply_order(get("orders", event.order_id), event, meta)
                    if outcome.kind != "applied":
                        continue
                    put("orders", event.order_id, outcome.view)
                    for table, key, deltas in (("customers", "customer_id", outcome.customers),
                                               ("inventory", "sku", outcome.skus), ("stats", None, outcome.stats)):
                        for delta in deltas:
                            producer.produce(repartition[table], orjson.dumps(delta),
                                             delta[key] if key else STATS_KEY, on_delivery=delivered)
                else:
                    table = table_of[topic]
                    key = msg.key().decode()
                    view = APPLY[table](get(table, key), orjson.loads(msg.value()))
                    if view is not None:
                        put(table, key, view)
                producer.poll(0)
            writes = WriteBatch(raw_mode=True)
            for table, key in state.changed:
                value = orjson.dumps(state.rows[table, key])
                writes.put(f"{table}\x00{key}".encode(), value)
                producer.produce(f"{group}-{table}-changelog", value, orjson.dumps(key), on_delivery=delivered)
            db.write(writes)
            producer.flush()
            if failed:
                raise KafkaException(failed[0])
            consumer.commit(asynchronous=False)
    finally:
        consumer.close()
        db.close()


if __name__ == "__main__":
    main()
