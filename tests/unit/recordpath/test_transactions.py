"""The transaction lifecycle over a producer that answers as told: the order of its calls, the abort on a refusal,
and an error that says what happened (the cluster, a takeover, a timeout, a lost group)."""

from __future__ import annotations

import struct
from typing import Any

import pytest
from confluent_kafka import KafkaError, KafkaException

from streams.recordpath.transactions import TransactionError, Transactions, group_metadata_bytes, transactional_id


class Producer:
    def __init__(self, refuse: dict[str, KafkaError] | None = None) -> None:
        self.calls: list[str] = []
        self.refuse = refuse or {}
        self.offsets: Any = None

    def _call(self, name: str) -> None:
        self.calls.append(name)
        if name in self.refuse:
            raise KafkaException(self.refuse[name])

    def init_transactions(self, timeout: float) -> None:
        self._call("init")

    def begin_transaction(self) -> None:
        self._call("begin")

    def send_offsets_to_transaction(self, offsets: Any, metadata: Any, timeout: float) -> None:
        self.offsets = (offsets, metadata)
        self._call("offsets")

    def commit_transaction(self, timeout: float) -> None:
        self._call("commit")

    def abort_transaction(self, timeout: float) -> None:
        self._call("abort")


def started(producer: Producer, observed: list[str] | None = None) -> Transactions:
    seen = observed if observed is not None else []
    transactions = Transactions(producer, transactional_id="orders-app.w1", timeout_s=10, broker="kafka:9092",
                                observe=lambda outcome, seconds: seen.append(outcome))
    transactions.start()
    return transactions


def test_a_commit_sends_the_offsets_commits_and_begins_the_next() -> None:
    producer, observed = Producer(), []
    transactions = started(producer, observed)
    transactions.produced([("orders", 1, 41)])
    transactions.commit({("orders", 1): 42}, b"CGMDv2:")
    assert producer.calls == ["init", "begin", "offsets", "commit", "begin"]
    offsets, metadata = producer.offsets
    assert [(tp.topic, tp.partition, tp.offset) for tp in offsets] == [("orders", 1, 42)]
    assert metadata == b"CGMDv2:"
    assert observed == ["committed"]
    assert (transactions.records, transactions.sources, transactions.open) == (0, {}, True)


def test_a_commit_without_offsets_sends_none() -> None:
    producer = Producer()
    transactions = started(producer)
    transactions.produced([])
    transactions.commit({}, None)
    assert producer.calls == ["init", "begin", "commit", "begin"]


def test_a_lost_group_aborts_and_says_the_partitions_moved() -> None:
    producer, observed = Producer({"offsets": KafkaError(KafkaError.ILLEGAL_GENERATION, txn_requires_abort=True)}), []
    transactions = started(producer, observed)
    with pytest.raises(TransactionError, match="lost its partitions to a rebalance"):
        transactions.commit({("orders", 0): 1}, b"x")
    assert producer.calls[-1] == "abort"
    assert observed == ["aborted"]
    assert not transactions.open


def test_a_takeover_of_the_transactional_id_names_it() -> None:
    producer = Producer({"commit": KafkaError(KafkaError._FENCED, fatal=True)})
    transactions = started(producer)
    with pytest.raises(TransactionError) as refused:
        transactions.commit({}, None)
    assert "'orders-app.w1' was taken over by another producer" in refused.value.message
    assert "STREAMS_INSTANCE_ID" in (refused.value.hint or "")


def test_a_transaction_past_its_timeout_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    producer = Producer({"commit": KafkaError(KafkaError.INVALID_PRODUCER_EPOCH, fatal=True)})
    now = [1000.0]
    monkeypatch.setattr("streams.recordpath.transactions.time.monotonic", lambda: now[0])
    transactions = started(producer)
    transactions.produced([("orders", 0, 5)])  # the transaction's first record at 1000 s
    now[0] = 1015.0
    with pytest.raises(TransactionError, match="past STREAMS_TRANSACTION_TIMEOUT_S=10"):
        transactions.commit({}, None)


@pytest.mark.parametrize(("code", "words"), [
    (KafkaError._TIMED_OUT, "transaction.state.log.replication.factor"),
    (KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, "grant WRITE and DESCRIBE on TransactionalId orders-app.w1"),
    (KafkaError.UNSUPPORTED_VERSION, "does not support transactions"),
])
def test_a_cluster_that_cannot_start_a_transaction_is_one_line_with_what_to_do(code: int, words: str) -> None:
    with pytest.raises(TransactionError) as refused:
        started(Producer({"init": KafkaError(code)}))
    line = refused.value.one_line()
    assert words in line
    assert "STREAMS_PROCESSING_GUARANTEE=at_least_once" in line
    assert "\n" not in line


def test_the_group_metadata_is_librdkafkas_format() -> None:
    static = group_metadata_bytes("orders-app", 7, "m-1", "w1")
    assert static == b"CGMDv2:" + struct.pack("=i", 7) + b"orders-app\0m-1\0\0w1\0"
    assert group_metadata_bytes("g", 1, "m", None).endswith(b"g\0m\0\1")


def test_the_transactional_id_is_the_instance_id_under_the_app_id() -> None:
    assert transactional_id("orders-app", "orders-app-1f2e") == "orders-app.orders-app-1f2e"
    assert transactional_id("orders-app", None) != transactional_id("orders-app", None)  # one per process
