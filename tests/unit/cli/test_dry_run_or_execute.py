"""``--dry-run`` and ``--execute`` exclude each other (as in Kafka's reset tool), checked before anything runs."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from streams.cli import app
from streams.cli.options import executing


@pytest.mark.parametrize("command", [
    ["replay", "--topic", "orders", "--to-earliest"],
    ["dlq", "redrive", "--topic", "orders"],
])
@pytest.mark.parametrize("order", [["--dry-run", "--execute"], ["--execute", "--dry-run"]])
def test_both_flags_are_a_usage_error(command: list[str], order: list[str]) -> None:
    # STREAMS_BROKER points nowhere: had the command gone on, it would fail on Kafka instead
    result = CliRunner().invoke(app, [*command, *order], env={"STREAMS_BROKER": "kafka://127.0.0.1:1"})
    assert result.exit_code == 2, result.output
    assert "'--dry-run' / '--execute'" in result.output
    assert "not both" in result.output


@pytest.mark.parametrize(("dry_run", "execute", "acts"), [(False, False, False), (True, False, False),
                                                          (False, True, True)])
def test_without_both_the_default_is_a_dry_run(dry_run: bool, execute: bool, acts: bool) -> None:
    assert executing(dry_run, execute) is acts
