"""The replication of the app's topics: decided from the broker count unless set, and refused when impossible."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from pydantic import ValidationError

from streams.errors import ConfigError, StreamsError, TransientError
from streams.replication import (
    MIN_INSYNC_CONFIG,
    ReplicationError,
    cluster_replication,
    cluster_size,
    decide_replication,
)
from streams.settings import Settings, explain_invalid
from streams.topics import TopicSpec, ensure_topics, under_replicated


@pytest.mark.parametrize(("brokers", "factor", "min_insync"), [(1, 1, 1), (2, 1, 1), (3, 3, 2), (5, 3, 2)])
def test_unset_is_decided_from_the_broker_count(brokers: int, factor: int, min_insync: int) -> None:
    replication = decide_replication(brokers)
    assert (replication.factor, replication.min_insync) == (factor, min_insync)
    assert not replication.factor_set
    assert not replication.min_insync_set
    assert replication.topic_config() == {MIN_INSYNC_CONFIG: str(min_insync)}


@pytest.mark.parametrize(("factor", "min_insync"), [(1, 1), (2, 1), (3, 2), (4, 2)])
def test_a_set_factor_brings_its_own_min_insync(factor: int, min_insync: int) -> None:
    replication = decide_replication(4, factor=factor)
    assert (replication.factor, replication.min_insync) == (factor, min_insync)
    assert replication.factor_set
    assert not replication.min_insync_set


def test_set_values_win_over_the_cluster() -> None:
    replication = decide_replication(5, factor=2, min_insync=2)
    assert (replication.factor, replication.min_insync) == (2, 2)
    only_insync = decide_replication(3, min_insync=3)
    assert (only_insync.factor, only_insync.min_insync) == (3, 3)


def test_a_factor_larger_than_the_cluster_is_one_line_naming_the_setting() -> None:
    with pytest.raises(ReplicationError) as info:
        decide_replication(1, factor=3)
    line = info.value.one_line()
    assert "\n" not in line
    assert line.startswith("STREAMS_REPLICATION_FACTOR=3 is more than the 1 broker of the cluster")
    assert "set it to 1 or less" in line
    assert isinstance(info.value, ConfigError)
    assert isinstance(info.value, StreamsError)
    assert not info.value.retriable  # a setting to change, not a broker to wait for


def test_min_insync_larger_than_the_factor_is_refused_naming_the_setting() -> None:
    with pytest.raises(ReplicationError, match=r"^STREAMS_MIN_INSYNC_REPLICAS=2 is more than the replication "
                                                r"factor 1"):
        decide_replication(1, min_insync=2)
    with pytest.raises(ReplicationError, match=r"^STREAMS_MIN_INSYNC_REPLICAS=3 "):
        decide_replication(3, factor=2, min_insync=3)


def test_a_cluster_without_brokers_is_transient() -> None:
    with pytest.raises(TransientError):
        decide_replication(0)


def test_describe_says_where_each_value_came_from() -> None:
    assert decide_replication(1).describe() == \
        "replication factor 1, min.insync.replicas 1 (from the cluster: 1 broker)"
    assert decide_replication(3, factor=3, min_insync=2).describe() == \
        "replication factor 3 (from STREAMS_REPLICATION_FACTOR), min.insync.replicas 2 (from " \
        "STREAMS_MIN_INSYNC_REPLICAS)"
    assert decide_replication(4, factor=3).describe() == \
        "replication factor 3 (from STREAMS_REPLICATION_FACTOR), min.insync.replicas 2 (from the cluster: 4 brokers)"


def test_settings_are_unset_by_default_and_refuse_zero(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STREAMS_REPLICATION_FACTOR", raising=False)
    monkeypatch.delenv("STREAMS_MIN_INSYNC_REPLICAS", raising=False)
    settings = Settings()
    assert settings.replication_factor is None
    assert settings.min_insync_replicas is None
    monkeypatch.setenv("STREAMS_REPLICATION_FACTOR", "3")
    monkeypatch.setenv("STREAMS_MIN_INSYNC_REPLICAS", "2")
    assert (Settings().replication_factor, Settings().min_insync_replicas) == (3, 2)
    monkeypatch.setenv("STREAMS_REPLICATION_FACTOR", "0")
    with pytest.raises(ValidationError) as info:
        Settings()
    assert explain_invalid(info.value).startswith("STREAMS_REPLICATION_FACTOR='0' is not valid")


def _metadata(**copies: int) -> SimpleNamespace:
    """Cluster metadata of topics with that many copies of each of their two partitions."""
    return SimpleNamespace(topics={
        name: SimpleNamespace(error=None, partitions={p: SimpleNamespace(replicas=list(range(n))) for p in (0, 1)})
        for name, n in copies.items()})


def test_an_existing_topic_with_fewer_copies_than_the_factor_is_warned_of() -> None:
    lines = under_replicated(_metadata(orders=1, payments=3), ["orders", "payments", "absent"], factor=3)
    assert lines == ["topic 'orders' has 1 copy of a partition, fewer than the replication factor 3 of the app's "
                     "topics (it existed before): raise it with kafka-reassign-partitions.sh"]
    assert under_replicated(_metadata(orders=1), ["orders"], factor=1) == []


def test_topics_that_exist_open_with_a_broker_down_even_with_the_factor_set(caplog: pytest.LogCaptureFixture) -> None:
    """Two of three brokers alive and STREAMS_REPLICATION_FACTOR=3: nothing to create, so nothing refused (the
    registry, the audit log restarting during the outage); a topic with fewer copies is still warned of."""
    metadata = _metadata(orders=3, audit=1)
    metadata.brokers = {1: None, 2: None}
    admin = SimpleNamespace(list_topics=lambda timeout: metadata)
    specs = [TopicSpec("orders", 2), TopicSpec("audit", 2)]
    assert ensure_topics(admin, specs, replication_factor=3) == []  # type: ignore[arg-type]
    assert [r.getMessage()[:14] for r in caplog.records] == ["topic 'audit' "]


def test_a_broker_that_is_down_still_counts_in_the_cluster_s_size() -> None:
    """Two of three brokers alive: the replica lists still name the third, so a restarted worker decides 3 and 2
    as before, and a factor of 3 set is not refused."""
    metadata = _metadata(orders=3)
    metadata.brokers = {1: None, 2: None}
    assert cluster_size(metadata) == 3
    admin = SimpleNamespace(list_topics=lambda timeout: metadata)
    decided = cluster_replication(admin, factor=None)  # type: ignore[arg-type]
    assert (decided.factor, decided.min_insync) == (3, 2)
    assert cluster_replication(admin, factor=3).factor == 3  # type: ignore[arg-type]
    empty = SimpleNamespace(brokers={1: None}, topics={})
    assert cluster_size(empty) == 1
