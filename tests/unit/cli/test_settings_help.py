"""`streams worker --help` names every setting, as the README's table and docker-compose.yml do."""

from __future__ import annotations

from typer.testing import CliRunner

from streams.cli import app
from streams.settings import Settings, variables


def test_worker_help_lists_every_setting_with_what_it_is_for() -> None:
    result = CliRunner().invoke(app, ["worker", "--help"], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    listed = [variable for variable, _ in variables()]
    assert len(listed) == len(Settings.model_fields)
    for variable, what in variables():
        assert f"{variable}: {what[:30]}" in result.output, variable
    assert "streams worker --help" in CliRunner().invoke(app, ["--help"], env={"COLUMNS": "400"}).output
