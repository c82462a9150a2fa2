"""``streams lag`` and the groups it is asked for, against a cluster the test controls (a fake sampler):
a named group the cluster lacks is a typo, the app's own group missing is a worker not there yet."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterable

import pytest
from rich.console import Console

from streams.cli import main
from streams.cli.lag_cmd import _Watch
from streams.lag import Evaluator, GroupLag, PartitionLag

BROKER = "kafka://b:9092"


class Cluster:
    """The groups there are, as the test sets them; counts how often they were listed."""

    def __init__(self, *groups: str) -> None:
        self.groups = list(groups)
        self.listings = 0
        self.sampled: list[list[str]] = []

    def __call__(self, bootstrap_servers: str) -> Cluster:  # stands in for the LagSampler class
        return self

    def all_groups(self) -> list[str]:
        self.listings += 1
        return sorted(self.groups)

    def sample(self, groups: Iterable[str], *, seconds: bool = True) -> list[GroupLag]:
        names = list(groups)
        self.sampled.append(names)
        return [GroupLag(name, "Stable", ["w@h"], [PartitionLag(name, "orders", 0, 5, 7, 2, 0.5, 0.0)])
                for name in names]

    def close(self) -> None:
        pass


@pytest.fixture
def cluster(monkeypatch: pytest.MonkeyPatch) -> Cluster:
    fake = Cluster()
    monkeypatch.setattr("streams.cli.lag_cmd.LagSampler", fake)
    monkeypatch.setattr("streams.cli.lag_cmd.reached", lambda settings: settings.kafka)  # the fake is the cluster
    monkeypatch.setenv("STREAMS_BROKER", BROKER)
    monkeypatch.setenv("STREAMS_APP_ID", "orders-app")
    return fake


def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["streams", "lag", "--samples", "1", *args])
    with pytest.raises(SystemExit) as info:
        main()
    out, err = capsys.readouterr()
    code = info.value.code
    return (code if isinstance(code, int) else 0), out, err


def test_a_named_group_the_cluster_lacks_is_a_typo(monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str], cluster: Cluster) -> None:
    cluster.groups = ["billing"]
    code, _, err = run(monkeypatch, capsys, "--group", "biling")
    assert code == 1
    assert err.splitlines() == ["streams: error: no consumer group biling on b:9092 (check the name; "
                                "`streams lag --all` lists the groups there are)"]


def test_the_apps_group_missing_is_a_worker_not_there_yet(monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str],
                                                          cluster: Cluster) -> None:
    code, _, err = run(monkeypatch, capsys)
    assert code == 1
    assert err.splitlines() == [
        "streams: error: the app's group orders-app is not on b:9092 yet: no worker has joined it "
        "(is make run / streams worker running or still starting?)"]


def test_the_cluster_is_listed_once_for_all_the_names(monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str], cluster: Cluster) -> None:
    cluster.groups = ["a", "b", "c"]
    code, _, err = run(monkeypatch, capsys, "-g", "a", "-g", "b", "-g", "c", "--json")
    assert code == 0, err
    assert cluster.listings == 1
    assert cluster.sampled == [["a", "b", "c"]]
    code, _, err = run(monkeypatch, capsys, "--all", "--json")
    assert code == 0, err
    assert cluster.listings == 2


def _text(table: object) -> str:
    console = Console(file=io.StringIO(), width=200)
    console.print(table)
    assert isinstance(console.file, io.StringIO)
    return console.file.getvalue()


def test_a_watch_waits_for_the_apps_group_and_picks_it_up(cluster: Cluster) -> None:
    watch = _Watch(cluster, Evaluator(), ["orders-app"], waiting=["orders-app"])  # type: ignore[arg-type]
    first = _text(watch.sample())
    assert "waiting for group orders-app to appear" in first
    assert cluster.sampled == [[]]
    cluster.groups = ["orders-app"]  # the worker joined
    second = _text(watch.sample())
    assert "waiting" not in second
    assert "Stable, 1 member(s)" in second
    assert cluster.sampled == [[], ["orders-app"]]
    listings = cluster.listings
    watch.sample()
    assert cluster.listings == listings  # once every group is there, the cluster is no longer listed


def test_a_watch_of_the_apps_group_does_not_exit_while_it_is_missing(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], cluster: Cluster) -> None:
    def join_then_stop(seconds: float) -> None:  # the pause between samples: the test's control
        if cluster.groups:
            raise KeyboardInterrupt
        cluster.groups = ["orders-app"]

    monkeypatch.setattr("streams.cli.lag_cmd.time.sleep", join_then_stop)
    monkeypatch.setenv("COLUMNS", "200")  # the table unwrapped
    code, out, err = run(monkeypatch, capsys, "--watch")
    assert code == 0, err
    assert err == ""
    assert cluster.sampled == [[], ["orders-app"]]
    assert "Stable, 1 member(s)" in out  # the last table drawn: the group, joined
    assert "waiting" not in out
