"""Tables read from their changelogs: which topics are whose tables, and what `streams tables show` refuses."""

from __future__ import annotations

import pytest

from streams.tables import changelog_topic, table_name
from tests.unit.cli.runner import run_main


@pytest.mark.parametrize(("topic", "table"), [
    ("orders-app-sagas-changelog", "sagas"),
    ("orders-app-orders-projection-parked-changelog", "orders-projection-parked"),
    ("orders-app-sagas", None),  # not a changelog
    ("billing-sagas-changelog", None),  # another app's
    ("orders-app-changelog", None),  # the app id and the suffix share a dash: no table named
    ("orders-app--changelog", None),
])
def test_a_changelog_names_its_table(topic: str, table: str | None) -> None:
    assert table_name("orders-app", topic) == table
    if table:
        assert changelog_topic("orders-app", table) == topic


def test_a_where_that_is_not_field_equals_value_is_one_line_exit_1(monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run_main(monkeypatch, capsys, "tables", "show", "sagas", "--where", "status")
    assert code == 1
    assert err.strip() == "streams: error: --where 'status' is not field=value (e.g. --where status=stuck)"
