"""``streams replay --restart-dev-worker`` on a dry run: it says the flag does nothing there (and still shows
the plan, exit 0), against a group the test fakes (no broker)."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from streams.cli import main


class Offsets:
    def __init__(self, bootstrap_servers: str) -> None:
        pass

    def members(self, group: str) -> list[str]:
        return []

    def plan(self, *args: Any) -> list[Any]:
        return []


@pytest.mark.parametrize("extra", [[], ["--json"]])
def test_a_dry_run_says_the_flag_has_no_effect(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                              extra: list[str]) -> None:
    monkeypatch.setattr("streams.cli.replay_cmd.GroupOffsets", Offsets)
    monkeypatch.setattr("streams.cli.replay_cmd.reached", lambda settings: settings.kafka)  # the fake is the cluster
    monkeypatch.setattr(sys, "argv", ["streams", "replay", "--topic", "orders", "--to-earliest",
                                      "--restart-dev-worker", *extra])
    with pytest.raises(SystemExit) as info:
        main()
    out, err = capsys.readouterr()
    assert info.value.code in (0, None), err
    assert err.splitlines() == ["--restart-dev-worker has no effect without --execute"]
    assert "--restart-dev-worker" not in out


def test_without_the_flag_a_dry_run_says_nothing_of_it(monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("streams.cli.replay_cmd.GroupOffsets", Offsets)
    monkeypatch.setattr("streams.cli.replay_cmd.reached", lambda settings: settings.kafka)  # the fake is the cluster
    monkeypatch.setattr(sys, "argv", ["streams", "replay", "--topic", "orders", "--to-earliest"])
    with pytest.raises(SystemExit) as info:
        main()
    assert info.value.code in (0, None)
    assert capsys.readouterr().err == ""
