"""`streams registry` on a broker that cannot be reached: one clear line, exit code 1 (no broker needed)."""

from __future__ import annotations

import pytest
import typer

from streams.cli.registry_cmd import registry
from streams.devstack.ports import free_port


def test_unreachable_broker_is_one_line_and_exit_1(monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("STREAMS_BROKER", f"kafka://127.0.0.1:{free_port()}")  # nothing listens there
    monkeypatch.setenv("STREAMS_SCHEMA_REGISTRY_URL", f"http://127.0.0.1:{free_port()}")
    with pytest.raises(typer.Exit) as info:
        registry(host=None, port=None)
    assert info.value.exit_code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("streams registry: error: cannot reach Kafka at 127.0.0.1:")
    assert "STREAMS_BROKER" in err[0]
