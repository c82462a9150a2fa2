"""The real broker: start, answer metadata, stop with no process left; a failed start says why."""

import time
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer

from streams.devstack.kafka import KafkaBroker
from streams.errors import DevstackError
from streams.settings import Settings
from tests.integration.devstack.stack import alive


def test_session_broker_round_trips_a_record(kafka_broker: KafkaBroker, make_topic) -> None:  # type: ignore[no-untyped-def]
    topic = make_topic("roundtrip")
    producer = Producer({"bootstrap.servers": kafka_broker.bootstrap_servers, "acks": "all"})
    producer.produce(topic, key=b"k", value=b"v", headers=[("h", b"1")])
    assert producer.flush(10) == 0
    consumer = Consumer({"bootstrap.servers": kafka_broker.bootstrap_servers, "group.id": topic,
                         "auto.offset.reset": "earliest"})
    consumer.subscribe([topic])
    try:
        deadline = time.monotonic() + 30
        message = None
        while message is None and time.monotonic() < deadline:
            message = consumer.poll(1.0)
        assert message is not None
        assert message.error() is None
        assert (message.key(), message.value(), message.headers()) == (b"k", b"v", [("h", b"1")])
    finally:
        consumer.close()


def test_a_second_broker_starts_stops_and_leaves_no_process(tmp_path: Path) -> None:
    settings = Settings()
    broker = KafkaBroker(data_dir=tmp_path, cache_dir=settings.kafka_cache_dir, kafka_home=settings.kafka_home)
    broker.start()
    pid = broker.pid
    assert pid is not None
    assert broker.running
    broker.stop()
    assert not alive(pid)
    # restart on the same (already formatted) storage reuses it
    with KafkaBroker(data_dir=tmp_path, cache_dir=settings.kafka_cache_dir,
                     kafka_home=settings.kafka_home) as again:
        assert again.running


def test_a_broker_that_exits_during_start_names_its_log(tmp_path: Path) -> None:
    settings = Settings()
    broker = KafkaBroker(data_dir=tmp_path, cache_dir=settings.kafka_cache_dir, kafka_home=settings.kafka_home)
    broker.start()
    broker.stop()
    meta = tmp_path / "kraft" / "meta.properties"
    meta.write_text(meta.read_text().replace("node.id=1", "node.id=7"))  # storage of another node
    with pytest.raises(DevstackError) as info:
        broker.start(timeout=60)
    line = info.value.one_line()
    assert "exited during start" in line
    assert str(broker.log_path) in line
    assert not broker.running


def test_invalid_broker_config_fails_at_format_with_its_log(tmp_path: Path) -> None:
    settings = Settings()
    broker = KafkaBroker(data_dir=tmp_path, cache_dir=settings.kafka_cache_dir, kafka_home=settings.kafka_home,
                         extra_config={"num.network.threads": "-1"})
    with pytest.raises(DevstackError, match="formatting KRaft storage failed") as info:
        broker.start(timeout=60)
    assert "format.log" in info.value.one_line()
