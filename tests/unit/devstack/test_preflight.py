"""What the broker launcher says when the machine is not ready (no broker is started)."""

import socket
from pathlib import Path

import pytest

from streams.devstack.jars import broker_classpath, cache_key, kafka_version
from streams.devstack.kafka import KafkaBroker
from streams.errors import DevstackError


def test_missing_java_is_one_clear_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    broker = KafkaBroker(data_dir=tmp_path / "k", cache_dir=tmp_path / "cache")
    with pytest.raises(DevstackError) as info:
        broker.start()
    line = info.value.one_line()
    assert "java not found" in line
    assert "docker compose" in line


def test_missing_maven_is_one_clear_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(DevstackError, match="mvn not found"):
        broker_classpath(tmp_path / "empty-cache", kafka_home=None)


def test_kafka_home_without_libs_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DevstackError, match="has no libs/"):
        broker_classpath(tmp_path, kafka_home=tmp_path / "not-kafka")


def test_kafka_home_is_used_instead_of_maven(tmp_path: Path) -> None:
    (tmp_path / "kafka" / "libs").mkdir(parents=True)
    assert broker_classpath(tmp_path / "unused", kafka_home=tmp_path / "kafka") == str(tmp_path / "kafka/libs/*")


def test_port_in_use_is_refused_before_starting(tmp_path: Path) -> None:
    if not (Path.home() / ".cache/streams/kafka" / cache_key() / ".complete").exists():
        pytest.skip("needs the Kafka jars fetched by `make install` (no network fetch in a unit test)")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        broker = KafkaBroker(data_dir=tmp_path / "k", cache_dir=Path.home() / ".cache/streams/kafka", port=port)
        with pytest.raises(DevstackError, match=f"port {port} is already in use"):
            broker.start()


def test_pinned_version_is_a_4x_release() -> None:
    assert kafka_version().startswith("4.")
