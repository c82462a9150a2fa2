"""`streams worker --help` names every setting, the domain's too, as the README's table and docker-compose.yml do."""

from __future__ import annotations

from typer.testing import CliRunner

from agents.settings import OrderSettings
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


def test_worker_help_lists_the_domains_settings_its_factory_module_offers() -> None:
    """The app factory's module offers its settings class (``domain_settings``): listed after the platform's; a
    factory whose module offers none (or does not import) leaves the platform's alone, and the help still works."""
    domain = [variable for variable, _ in variables(OrderSettings)]
    assert "STREAMS_SIMULATED_SERVICES" in domain
    result = CliRunner().invoke(app, ["worker", "--help"], env={"COLUMNS": "400"})
    assert "Settings of the app (agents.app):" in result.output
    for variable, what in variables(OrderSettings):
        assert f"{variable}: {what[:30]}" in result.output, variable
    for factory in ("streams.loader:load_factory", "no_such_module:create_app"):
        other = CliRunner().invoke(app, ["worker", "--help"], env={"COLUMNS": "400", "STREAMS_APP_FACTORY": factory})
        assert other.exit_code == 0, other.output
        assert "STREAMS_BROKER: " in other.output
        assert "Settings of the app" not in other.output
        assert "STREAMS_SIMULATED_SERVICES" not in other.output
